using BenchmarkDotNet.Running;

namespace AiGateway.Benchmarks;

// Runs the BenchmarkDotNet suites of the pipeline stages:
//   dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- --filter '*'
// or reports the allocations per request of a running gateway from a trace (Allocations/AllocationReport.cs):
//   dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- allocations <trace.nettrace>
internal static class BenchmarkEntry
{
    private static int Main(string[] args)
    {
        if (args is ["allocations", .. var rest])
        {
            return Allocations.AllocationReport.Run(rest);
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
        return 0;
    }
}
