using AiGateway.Identity;
using AiGateway.Scim;

namespace AiGateway.Governance;

/// <summary>Registers and maps the access review, the governance data API and the governance page.</summary>
internal static class GovernanceServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayGovernance(this IServiceCollection services) =>
        services.AddSingleton<GovernanceEndpoints>();

    public static void MapGovernance(this IEndpointRouteBuilder app)
    {
        var review = app.CreateApplicationBuilder();
        review.UseMiddleware<CallerMiddleware>();
        review.UseMiddleware<DirectoryMiddleware>();
        review.Run(context => context.RequestServices.GetRequiredService<GovernanceEndpoints>().AccessReviewAsync(context));
        app.MapGet("/admin/v1/access-review", review.Build());

        var summary = app.CreateApplicationBuilder();
        summary.UseMiddleware<CallerMiddleware>();
        summary.UseMiddleware<DirectoryMiddleware>();
        summary.Run(context => context.RequestServices.GetRequiredService<GovernanceEndpoints>().SummaryAsync(context));
        app.MapGet("/admin/v1/governance", summary.Build());

        // The shell only: the data behind it needs an admin token.
        app.MapGet("/admin/governance/{agency}", GovernancePage.HandleAsync);
    }
}
