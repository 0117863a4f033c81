namespace BankGrains.Runtime;

/// <summary>Marker for every grain interface; the source generator writes a reference proxy for each one.</summary>
public interface IGrain;

/// <summary>A grain addressed by a <see cref="Guid"/>.</summary>
public interface IGrainWithGuidKey : IGrain;

/// <summary>A grain addressed by a string.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>A grain addressed by a 64-bit integer.</summary>
public interface IGrainWithIntegerKey : IGrain;
