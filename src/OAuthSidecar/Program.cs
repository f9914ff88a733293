using System.Text;
using OAuthSidecar.Cli;
using OAuthSidecar.Rpc;

namespace OAuthSidecar;

/// <summary>The <c>oauth-sidecar</c> executable.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // stdout is the protocol: anything that writes to Console.Out by accident goes to stderr instead. Help, the
        // version and the schema are written to `output`, the only other writer of stdout. Both are plain descriptors
        // on Unix (StdioPipes): the console streams share one lock, so a stderr nobody reads would stall stdout.
        Stream stdout = StdioPipes.OpenStandardOutput();
        Console.SetOut(Console.Error);
        await using var output = new StreamWriter(stdout, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);

        var commandLine = new CommandLine(
            serve: (options, _) => StdioHost.RunAsync(options, Console.OpenStandardInput(), stdout, StdioPipes.OpenStandardError()),
            callback: (arguments, _) => CallbackCommand.RunAsync(arguments, stdout, Console.Error),
            schema: async (writer, _) =>
            {
                await writer.WriteAsync(SchemaGenerator.Generate()).ConfigureAwait(false);
                return 0;
            },
            version: SidecarRpcTarget.Version,
            token: (arguments, _) => TokenCommand.RunAsync(arguments, new TokenConsole(stdout, Console.Error, Console.In, !Console.IsInputRedirected, Core.Browser.HostEnvironment.Current)));
        return await commandLine.RunAsync(args, output, Console.Error, CancellationToken.None).ConfigureAwait(false);
    }
}
