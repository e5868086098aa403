using System.Security.Cryptography;
using Drydock.Detection.Configuration;

namespace Drydock.Cli.Infrastructure;

/// <summary>The redaction key drydock clean pseudonymises with: from the environment, a key file, or created on first use.</summary>
internal static class RedactionKeys
{
    public const string KeyEnvironment = "DRYDOCK_REDACTION_KEY";
    public const string DefaultKeyFile = ".drydock/keys/redaction.key";

    // The key: $DRYDOCK_REDACTION_KEY (hex or base64), else the key file, created with 32 random bytes on first use.
    // The default key file is the project's (found upwards), so a clean in a subfolder uses the same key.
    public static byte[] Load(string? keyFile, string? root)
    {
        if (keyFile is null && Environment.GetEnvironmentVariable(KeyEnvironment) is { Length: > 0 } fromEnvironment)
        {
            return KeyFromEnvironment(fromEnvironment);
        }

        var path = keyFile ?? Path.Combine(root ?? "", DefaultKeyFile);
        if (!File.Exists(path))
        {
            if (keyFile is not null) throw new IOException($"{path}: no such file");
            if (root is not null) ProjectContext.StateOf(root);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var created = RandomNumberGenerator.GetBytes(32);
            Datasets.Output.AtomicFile.Write(path, created, ownerOnly: true);
            return created;
        }

        return ReadKeyFile(path);
    }

    // $DRYDOCK_REDACTION_KEY holds what a key file holds: 32 bytes, as 64 hex digits (openssl rand -hex 32) or base64.
    // A shorter or malformed key is refused naming the variable (never its value), not stretched or used as given.
    private static byte[] KeyFromEnvironment(string value)
    {
        var text = value.Trim();
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit)) return Convert.FromHexString(text);
        var bytes = new byte[48];
        if (!text.All(char.IsAsciiHexDigit) && Convert.TryFromBase64String(text, bytes, out var written) && written == 32) return bytes[..32];
        throw new FormatException($"${KeyEnvironment} is not a redaction key ({text.Length} characters): give 32 bytes as 64 hex digits (openssl rand -hex 32) or as base64 (openssl rand -base64 32)");
    }

    // A key file is a regular file only its owner can read (mode 0600 or 0400 on Unix) holding the key as drydock
    // writes it, 32 raw bytes, or as 64 hex digits (openssl rand -hex 32); anything else is refused, never used as a key.
    private static byte[] ReadKeyFile(string path)
    {
        RegularFiles.Check(path);
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var mode = File.GetUnixFileMode(path);
            if ((mode & ~ownerOnly) != 0 || (mode & UnixFileMode.UserRead) == 0)
            {
                throw new IOException($"{path}: mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}; a key file must be readable by its owner only (0600 or 0400): run 'chmod 600 {path}'");
            }
        }

        var bytes = RegularFiles.ReadAllBytes(path, 1024);
        if (bytes.Length == 32) return bytes;
        var text = System.Text.Encoding.ASCII.GetString(bytes).TrimEnd('\n', '\r');
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit)) return Convert.FromHexString(text);
        throw new FormatException($"{path}: not a redaction key ({bytes.Length} bytes): a key file holds 32 raw bytes (as drydock writes it) or 64 hex digits");
    }
}
