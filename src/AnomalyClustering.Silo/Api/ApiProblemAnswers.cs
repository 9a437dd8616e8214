using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Silo.Api;

/// <summary>The endpoint filter that turns the handlers' typed refusals into ProblemDetails answers, for every API group.</summary>
internal static class ApiProblemAnswers
{
    /// <summary>The filter; <paramref name="invalidTitle"/> titles a refused request (e.g. "Invalid job").</summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> For(string invalidTitle) =>
        async (context, next) =>
        {
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (ApiProblemException e)
            {
                return Results.Problem(e.Message, statusCode: e.StatusCode, title: e.Title, extensions: e.Extensions);
            }
            catch (InvalidLineNameException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid line name");
            }
            catch (LineCannotTakeImagesException e)
            {
                return Results.Problem(e.Message, statusCode: e.IsConflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest,
                    title: e.IsConflict ? "Line cannot take images" : "Unsupported line");
            }
            catch (InvalidJobException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: invalidTitle,
                    extensions: new Dictionary<string, object?> { ["field"] = e.Field });
            }
            catch (InvalidClusteringInputException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: invalidTitle,
                    extensions: new Dictionary<string, object?> { ["field"] = e.ParamName });
            }
        };
}
