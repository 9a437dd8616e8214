using System.Text;
using System.Text.RegularExpressions;

namespace AnomalyClustering.Deployment.Tests.Docker;

/// <summary>
/// The .dockerignore rules: Go filepath.Match patterns plus <c>**</c>, matched against a path and each of its parent
/// folders (an excluded folder excludes what is inside), the last matching rule winning (<c>!</c> re-includes).
/// </summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude)> rules = [];

    /// <summary>Parses the file's text.</summary>
    public DockerIgnore(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var exclude = !line.StartsWith('!');
            var pattern = line.TrimStart('!').Trim().Trim('/');
            rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude));
        }
    }

    /// <summary>Whether a repository-relative path (forward slashes) is left out of the build context.</summary>
    public bool Excludes(string path)
    {
        var segments = path.Trim('/').Split('/');
        var excluded = false;
        for (var length = 1; length <= segments.Length && !excluded; length++)
        {
            var prefix = string.Join('/', segments.Take(length));
            foreach (var (pattern, exclude) in rules)
            {
                if (pattern.IsMatch(prefix))
                {
                    excluded = exclude;
                }
            }
        }
        return excluded;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" matches any number of folders, including none.
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }
        return regex.ToString();
    }
}
