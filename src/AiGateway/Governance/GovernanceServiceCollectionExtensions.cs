using AiGateway.Identity;

namespace AiGateway.Governance;

/// <summary>Registers and maps the access review, the governance data API and the governance page.</summary>
internal static class GovernanceServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayGovernance(this IServiceCollection services) =>
        services.AddSingleton<GovernanceEndpoints>();

    public static void MapGovernance(this IEndpointRouteBuilder app)
    {
        app.MapCallerGet("/admin/v1/access-review", context => context.RequestServices.GetRequiredService<GovernanceEndpoints>().AccessReviewAsync(context));
        app.MapCallerGet("/admin/v1/governance", context => context.RequestServices.GetRequiredService<GovernanceEndpoints>().SummaryAsync(context));

        // The shell only: the data behind it needs an admin token.
        app.MapGet("/admin/governance/{agency}", GovernancePage.HandleAsync);
    }
}
