using AiGateway.Configuration;
using AiGateway.Model;

namespace AiGateway.Entitlements;

/// <summary>Default deny: a caller may use a model only when its agency allows the model and one of its roles grants it.</summary>
internal static class Entitlement
{
    /// <summary>The role that grants <paramref name="model"/> to <paramref name="caller"/>, or null when none does.</summary>
    public static string? GrantingRole(Caller caller, AgencyPolicy agency, ModelRoute model)
    {
        if (!agency.Models.Matches(model))
        {
            return null;
        }

        foreach (var roleName in caller.Roles)
        {
            if (agency.Roles.TryGetValue(roleName, out var role))
            {
                var models = caller.Kind == CallerKind.Workload ? role.WorkloadModels : role.PersonModels;
                if (models.Matches(model))
                {
                    return roleName;
                }
            }
        }

        return null;
    }
}
