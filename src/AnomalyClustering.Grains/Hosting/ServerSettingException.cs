namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// A server setting whose value the server cannot run with, found at start: the message names the setting (its full
/// configuration key), the value and what it takes, in one line the server prints before it exits.
/// </summary>
public sealed class ServerSettingException : InvalidOperationException
{
    /// <summary>Creates the refusal of <paramref name="key"/>'s value; <paramref name="message"/> says what is wrong and what it takes.</summary>
    public ServerSettingException(string key, string message) : base(message)
    {
        Key = key;
    }

    /// <summary>The setting's configuration key, e.g. <c>AnomalyClustering:Coordinator:DecisionLogFlushInterval</c>.</summary>
    public string Key { get; }
}
