namespace AiGateway.IntegrationTests.Faults;

/// <summary>
/// Tests that put the machine under load (concurrent bursts, child processes, fuzz loops) run alone, after the
/// parallel ones, so they neither slow down nor are slowed down by timing-sensitive tests of other classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection
{
    public const string Name = "Load (not parallel)";
}
