using AnomalyClustering.Testing.Browser;

// One Chromium for every browser test of this assembly.
[assembly: AssemblyFixture(typeof(ChromiumFixture))]
