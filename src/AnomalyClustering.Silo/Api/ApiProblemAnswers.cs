using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
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
            catch (NovelPoolException e)
            {
                var (status, title) = e.Error switch
                {
                    NovelPoolError.UnknownLine => (StatusCodes.Status404NotFound, "Unknown line"),
                    NovelPoolError.UnknownProposal => (StatusCodes.Status404NotFound, "Unknown proposal"),
                    NovelPoolError.EmptyPool => (StatusCodes.Status409Conflict, "Empty novel pool"),
                    NovelPoolError.NameClash => (StatusCodes.Status409Conflict, "Name taken"),
                    NovelPoolError.Conflict => (StatusCodes.Status409Conflict, "Novel pool conflict"),
                    NovelPoolError.Unavailable => (StatusCodes.Status503ServiceUnavailable, "Service unavailable"),
                    _ => (StatusCodes.Status400BadRequest, invalidTitle),
                };
                return Results.Problem(e.Message, statusCode: status, title: title);
            }
            catch (JobBeingDeletedException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Job being deleted",
                    extensions: new Dictionary<string, object?> { ["deletionStartedAt"] = e.DeletionStartedAt });
            }
            catch (InvalidJobException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: invalidTitle,
                    extensions: new Dictionary<string, object?> { ["field"] = e.Field });
            }
            catch (InvalidClusteringInputException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: invalidTitle,
                    extensions: new Dictionary<string, object?> { ["field"] = JobRequests.OptionField(e.ParamName) });
            }
        };
}
