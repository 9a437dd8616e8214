using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// Orleans authenticates nothing on its silo-to-silo and gateway ports (issue #15: "Orleans silo and gateway ports listen on
/// all addresses"): a cluster-mode silo listens on its advertised address only (loopback when none is set), so another
/// address of the same host does not reach them, unless <c>Orleans:ListenOnAnyHostAddress</c> asks for every address.
/// </summary>
public sealed class SiloPortBindingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SiloAndGatewayPortsListenOnlyOnTheAdvertisedAddressUnlessEveryAddressIsAskedFor(bool listenOnAny)
    {
        var executable = RedisServer.FindExecutable();
        if (executable is null)
        {
            Assert.Skip("redis-server is not on PATH (Debian: apt-get install redis-server)");
        }
        var other = OtherAddressOfThisHost();
        if (other is null)
        {
            Assert.Skip("this host has no address but loopback, so there is no other address to try the ports on");
        }
        await using var redis = await RedisServer.StartAsync(executable);
        using var tokens = new TestTokens();
        var siloPort = LoggedProcess.FreeLoopbackPort();
        var gatewayPort = LoggedProcess.FreeLoopbackPort();
        var settings = new Dictionary<string, string?>
        {
            ["AnomalyClustering:Clustering"] = "Redis",
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Orleans:SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Orleans:ListenOnAnyHostAddress"] = listenOnAny ? "true" : null,
        };
        await using var silo = await StandaloneSilo.StartAsync(tokens, settings);

        foreach (var port in new[] { siloPort, gatewayPort })
        {
            Assert.True(await AcceptsAsync(IPAddress.Loopback, port), $"port {port} does not accept connections on the advertised (loopback) address");
            Assert.True(await AcceptsAsync(other, port) == listenOnAny,
                $"port {port} {(listenOnAny ? "does not accept" : "accepts")} connections on {other} with ListenOnAnyHostAddress={listenOnAny}");
        }
    }

    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var client = new TcpClient(address.AddressFamily);
        try
        {
            await client.ConnectAsync(address, port, TestContext.Current.CancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static IPAddress? OtherAddressOfThisHost() => NetworkInterface.GetAllNetworkInterfaces()
        .Where(network => network.OperationalStatus == OperationalStatus.Up && network.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(network => network.GetIPProperties().UnicastAddresses)
        .Select(unicast => unicast.Address)
        .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address));
}
