using System.Reflection;
using System.Text;

namespace Drydock.Tests.Shared;

/// <summary>
/// Describes an assembly's public API as text, so that a test can compare it with an approved list and any
/// change shows up as a diff. Re-approve a deliberate change with DRYDOCK_APPROVE=1 ./test.sh.
/// </summary>
internal static class PublicApi
{
    public static void AssertApproved(Assembly assembly, string approvedPath)
    {
        var actual = Describe(assembly);
        if (Environment.GetEnvironmentVariable("DRYDOCK_APPROVE") == "1")
        {
            File.WriteAllText(approvedPath, actual);
        }

        Assert.Equal(File.ReadAllText(approvedPath), actual);
    }

    private static string Describe(Assembly assembly)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append("type ").Append(type.FullName).Append('\n');
            var members = type.GetMembers(flags)
                .Where(m => m is not MethodInfo { IsSpecialName: true })
                .Select(m => $"  {m.MemberType} {m}")
                .Order(StringComparer.Ordinal);
            foreach (var member in members)
            {
                text.Append(member).Append('\n');
            }
        }

        return text.ToString();
    }
}
