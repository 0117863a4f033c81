using Xunit;

// Each test runs a whole cluster (PostgreSQL, three silos, an API) with sub-second failure detection:
// two such clusters side by side on a small machine starve each other into false suspicions.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
