using Drydock.Cli;
using Drydock.Cli.Infrastructure;

// Signals stop the verb through its token (temporary files removed, 128 + signal as the exit code).
using var interruption = Interruption.Register();
var exit = await DrydockApp.RunAsync(args, Console.Out, Console.Error, interruption.Token).ConfigureAwait(false);
return interruption.ExitCode ?? exit;
