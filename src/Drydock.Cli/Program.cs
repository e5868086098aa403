using Drydock.Cli;

return await DrydockApp.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
