using System.CommandLine;
using System.Text;
using Drydock.Training.Runs;

namespace Drydock.Cli.Commands;

/// <summary>The options a trainer run takes, shared by train run and train base: the trainer, its command line, isolation and limits.</summary>
internal sealed class TrainerOptions
{
    public Option<string> Trainer { get; } = new("--trainer") { Description = "reference (Drydock's byte-level GPT trainer, Python with PyTorch) or command (any trainer's command line).", DefaultValueFactory = _ => "reference" };

    public Option<string?> CommandLine { get; } = new("--command") { Description = "With --trainer command: the trainer's command line; {plan} {train} {held_out} {output} {base} become paths in the private run folder." };

    public Option<string?> Python { get; } = new("--python") { Description = "The Python that runs the reference trainer (default: $DRYDOCK_PYTHON, else /usr/bin/python3 with Debian's python3-torch)." };

    public Option<int> Timeout { get; } = new("--timeout") { Description = "Minutes before the trainer is killed.", DefaultValueFactory = _ => 60 };

    public Option<int> Memory { get; } = new("--memory") { Description = "Address-space limit of the trainer in GiB (0 for none).", DefaultValueFactory = _ => 16 };

    public Option<string[]> AllowEnv { get; } = new("--allow-env") { Description = "An environment variable the trainer may see (repeatable; only PATH, LANG and LC_ALL otherwise).", AllowMultipleArgumentsPerToken = true };

    public Option<bool> AllowNetwork { get; } = new("--allow-network") { Description = "Run the trainer with the network (by default it runs in a new network namespace, and is refused when that is unavailable)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Trainer, CommandLine, Python, Timeout, Memory, AllowEnv, AllowNetwork }) command.Options.Add(option);
    }

    public TrainerSpec Spec(ParseResult parse)
    {
        var kind = parse.GetValue(Trainer);
        if (kind == "reference") return TrainerSpec.Reference(parse.GetValue(Python));
        if (kind != "command") throw new ArgumentException($"--trainer '{kind}' is not reference or command");
        var line = parse.GetValue(CommandLine) ?? throw new ArgumentException("--command is required with --trainer command");
        return new TrainerSpec("command", SplitCommand(line), "");
    }

    public IsolationOptions Isolation(ParseResult parse)
    {
        if (parse.GetValue(Timeout) < 1) throw new ArgumentException("--timeout must be at least 1 minute");
        if (parse.GetValue(Memory) < 0) throw new ArgumentException("--memory must be at least 0");
        return new IsolationOptions
        {
            AllowedEnvironment = [.. new IsolationOptions().AllowedEnvironment, .. parse.GetValue(AllowEnv) ?? []],
            RequireNoNetwork = !parse.GetValue(AllowNetwork),
            Timeout = TimeSpan.FromMinutes(parse.GetValue(Timeout)),
            MemoryBytes = (long)parse.GetValue(Memory) << 30,
        };
    }

    // Splits a command line on spaces, keeping "double" or 'single' quoted parts together.
    internal static List<string> SplitCommand(string line)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var any = false;
        char quote = '\0';
        foreach (var c in line)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                any = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (any || current.Length > 0) parts.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
            }
        }

        if (quote != '\0') throw new ArgumentException($"--command: unclosed {quote} quote");
        if (any || current.Length > 0) parts.Add(current.ToString());
        return parts.Count > 0 ? parts : throw new ArgumentException("--command is empty");
    }
}
