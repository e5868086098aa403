using System.CommandLine;
using Drydock.Cli.Commands;
using Drydock.Gateway;
using Drydock.Gateway.Keys;
using Drydock.Gateway.State;

namespace Drydock.Cli.Infrastructure;

/// <summary>The gateway's key store as verbs open it (keys, incident containment), and revocations published to Redis.</summary>
internal static class GatewayKeys
{
    /// <summary>The key store, each change recorded in the registry's audit log (before it is written) by the current user.</summary>
    public static ApiKeyStore Store(ParseResult parse, ProjectContext? context = null)
    {
        context ??= ProjectContext.Load(parse);
        return KeyStoreOwner.Checked(ApiKeyStore.Open(ProjectContext.KeysFolder, new ApiKeyStoreOptions { Journal = new RegistryApiKeyJournal(context.OpenRegistry, Provenance.Actor.Current) }), context);
    }

    /// <summary>Tells gateways sharing <paramref name="redis"/> that <paramref name="id"/> is revoked; fails loudly when it cannot.</summary>
    public static void PublishRevocation(string? redis, string id)
    {
        if (redis is null) return;
        try
        {
            var state = RedisGatewayState.ConnectAsync(redis).GetAwaiter().GetResult();
            try
            {
                state.RevokeAsync(id).AsTask().GetAwaiter().GetResult();
            }
            finally
            {
                state.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is GatewayConfigException or StackExchange.Redis.RedisException)
        {
            throw new IOException($"key {id} is revoked in the key file (gateways sharing it refuse it within a second), but NOT in Redis: {e.Message}", e);
        }
    }
}
