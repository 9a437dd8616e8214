using AnomalyClustering.Cli;

// The commands live in Commands/; CliApplication parses, dispatches and turns user errors into one line on stderr.
return await CliApplication.RunAsync(args, CliConsole.ForProcess());
