using System.Text.Json;
using System.Text.RegularExpressions;

namespace AnomalyClustering.Deployment.Tests.Docker;

/// <summary>One instruction of a Dockerfile, continuation lines joined.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments, int Line);

/// <summary>One build stage: its base image (global ARG defaults substituted), its name, its instructions.</summary>
internal sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    /// <summary>The instructions with one keyword.</summary>
    public IEnumerable<DockerInstruction> Where(string keyword) => Instructions.Where(i => i.Keyword == keyword);
}

/// <summary>A Dockerfile parsed enough to check it statically (no Docker engine exists here): stages, COPY sources, RUN lines.</summary>
internal sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerStage> stages, IReadOnlyDictionary<string, string> globalArguments)
    {
        Stages = stages;
        GlobalArguments = globalArguments;
    }

    /// <summary>The stages in order; the last one is the image that ships.</summary>
    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>ARG defaults declared before the first FROM (usable in FROM lines).</summary>
    public IReadOnlyDictionary<string, string> GlobalArguments { get; }

    /// <summary>The image that ships.</summary>
    public DockerStage Final => Stages[^1];

    /// <summary>Parses a Dockerfile: comments and blank lines dropped, backslash continuations joined.</summary>
    public static Dockerfile Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var start = i + 1;
            var joined = line;
            while (joined.EndsWith('\\') && i + 1 < lines.Length)
            {
                joined = joined[..^1];
                var next = lines[++i].Trim();
                if (!next.StartsWith('#'))
                {
                    joined += " " + next;
                }
            }
            var parts = joined.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            instructions.Add(new DockerInstruction(parts[0].ToUpperInvariant(), parts.Length > 1 ? parts[1].Trim() : "", start));
        }

        var globals = new Dictionary<string, string>(StringComparer.Ordinal);
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        string? image = null, name = null;
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                if (current is not null)
                {
                    stages.Add(new DockerStage(image!, name, current));
                }
                var words = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
                image = Substitute(words[0], globals);
                name = words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                current = [];
            }
            else if (current is null)
            {
                if (instruction.Keyword == "ARG")
                {
                    var pair = instruction.Arguments.Split('=', 2);
                    globals[pair[0].Trim()] = pair.Length > 1 ? pair[1].Trim().Trim('"') : "";
                }
            }
            else
            {
                current.Add(instruction);
            }
        }
        if (current is not null)
        {
            stages.Add(new DockerStage(image!, name, current));
        }
        return new Dockerfile(stages, globals);
    }

    /// <summary>The words of an instruction's arguments: the JSON (exec) form or whitespace-separated.</summary>
    public static IReadOnlyList<string> Words(string arguments) =>
        arguments.StartsWith('[')
            ? JsonSerializer.Deserialize<string[]>(arguments) ?? []
            : arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A COPY's options (--from=..., --chown=...) and its sources (its destination is the last word).</summary>
    public static (IReadOnlyDictionary<string, string> Options, IReadOnlyList<string> Sources) CopyParts(DockerInstruction copy)
    {
        var words = Words(copy.Arguments);
        var options = words.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal))
            .Select(w => w[2..].Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
        var rest = words.Skip(options.Count).ToList();
        return (options, rest.Take(rest.Count - 1).ToList());
    }

    private static string Substitute(string value, IReadOnlyDictionary<string, string> arguments) =>
        ArgumentReference().Replace(value, m =>
            arguments.TryGetValue(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, out var v) ? v : m.Value);

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex ArgumentReference();
}
