using Drydock.Cli.Infrastructure;
using Drydock.Provenance.Registry;
using Drydock.Gateway.Keys;

namespace Drydock.Cli.Commands;

/// <summary>
/// Whose key store this is: a store holding keys belongs to the registry whose audit log recorded its changes (each
/// entry names the store by its id). A store of another project — reached through a link, a mount or a copy of its
/// folder — is neither read nor changed by a <c>keys</c> verb run here, whatever access control this project has.
/// </summary>
internal static class KeyStoreOwner
{
    public static ApiKeyStore Checked(ApiKeyStore store, ProjectContext context) => Checked(store, () => context);

    public static ApiKeyStore Checked(ApiKeyStore store, Func<ProjectContext> project)
    {
        var keys = store.List();
        if (keys.Count == 0) return store; // a new, empty store: its first change is recorded here
        var context = project();
        using var registry = context.OpenRegistry();
        if (registry.ApiKeyEvents().Any(e => e.Key.Store == store.StoreId)) return store;
        throw new ApiKeyStoreException(
            $"refused: the key store {store.FilePath} holds {keys.Count} key(s), but the registry {RegistryDatabase.Shown(context.RegistryLocation)} records no change of that store (id {store.StoreId}): " +
            "it is another project's key store (its folder reached through a link, a mount or a copy); run the command in the project whose registry recorded it");
    }
}
