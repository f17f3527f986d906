using BenchmarkDotNet.Running;

namespace AiGateway.Benchmarks;

// Runs the BenchmarkDotNet suites of the pipeline stages:
//   dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- --filter '*'
internal static class BenchmarkEntry
{
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
}
