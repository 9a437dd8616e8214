using System.Text;

namespace AnomalyClustering.Storage;

/// <summary>
/// The naming rules shared by every <see cref="IBlobStore"/>: '/'-separated segments, so that a name is both
/// an Azure blob name and a relative path under a local folder without any way to leave that folder.
/// </summary>
public static class BlobName
{
    /// <summary>Azure's limit on a blob name, in characters.</summary>
    public const int MaxLength = 1024;

    /// <summary>The common file-system limit on one path segment, in UTF-8 bytes.</summary>
    public const int MaxSegmentBytes = 255;

    /// <summary>The rules in one sentence, appended to every <see cref="InvalidBlobNameException"/>.</summary>
    public const string RulesSummary =
        "A blob name is 1 to 1024 characters of '/'-separated segments (e.g. 'images/job-1/0001.png'): "
        + "no leading or trailing '/', no empty, '.' or '..' segments, no '\\' or control characters, "
        + "at most 255 UTF-8 bytes per segment.";

    /// <summary>Throws <see cref="InvalidBlobNameException"/> unless <paramref name="name"/> is a valid blob name. Cost: O(length).</summary>
    public static void Validate(string? name, string paramName = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidBlobNameException(name, "it is empty", paramName);
        }
        if (name.Length > MaxLength)
        {
            throw new InvalidBlobNameException(name, $"it has {name.Length} characters, more than {MaxLength}", paramName);
        }
        if (name[0] == '/')
        {
            throw new InvalidBlobNameException(name, "it starts with '/' (names are relative)", paramName);
        }
        if (name[^1] == '/')
        {
            throw new InvalidBlobNameException(name, "it ends with '/' (that names a folder, not a blob)", paramName);
        }
        ValidateCharactersAndSegments(name, paramName, lastSegmentMayBePartial: false);
    }

    /// <summary>
    /// Throws <see cref="InvalidBlobNameException"/> unless <paramref name="prefix"/> can start a valid blob name:
    /// empty (everything), or a name's beginning such as <c>features/v1/</c> or <c>images/job-1/00</c>.
    /// </summary>
    public static void ValidatePrefix(string? prefix, string paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (prefix.Length == 0)
        {
            return;
        }
        if (prefix.Length > MaxLength)
        {
            throw new InvalidBlobNameException(prefix, $"the prefix has {prefix.Length} characters, more than {MaxLength}", paramName);
        }
        if (prefix[0] == '/')
        {
            throw new InvalidBlobNameException(prefix, "the prefix starts with '/' (names are relative)", paramName);
        }
        ValidateCharactersAndSegments(prefix, paramName, lastSegmentMayBePartial: true);
    }

    private static void ValidateCharactersAndSegments(string name, string paramName, bool lastSegmentMayBePartial)
    {
        foreach (var c in name)
        {
            if (c == '\\')
            {
                throw new InvalidBlobNameException(name, "it contains '\\' (use '/' between segments)", paramName);
            }
            if (char.IsControl(c))
            {
                throw new InvalidBlobNameException(name, $"it contains the control character U+{(int)c:X4}", paramName);
            }
        }
        var segments = name.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var isLast = i == segments.Length - 1;
            if (isLast && lastSegmentMayBePartial)
            {
                // "images/." could still become "images/.hidden"; only a complete '..' segment is an escape.
                if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
                {
                    throw new InvalidBlobNameException(name, $"the segment '{segment}' is longer than {MaxSegmentBytes} UTF-8 bytes", paramName);
                }
                continue;
            }
            if (segment.Length == 0)
            {
                throw new InvalidBlobNameException(name, "it has an empty segment ('//')", paramName);
            }
            if (segment is "." or "..")
            {
                throw new InvalidBlobNameException(name, $"it has a '{segment}' segment (names cannot walk the tree)", paramName);
            }
            if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
            {
                throw new InvalidBlobNameException(name, $"the segment '{segment}' is longer than {MaxSegmentBytes} UTF-8 bytes", paramName);
            }
        }
    }
}
