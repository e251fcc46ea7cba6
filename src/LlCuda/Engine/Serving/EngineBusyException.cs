namespace LlCuda.Engine;

/// <summary>
/// The engine's queue is full (<see cref="EngineOptions.MaxQueuedRequests"/>): the request was
/// refused at once rather than held in unbounded memory. Retry later (HTTP 429).
/// </summary>
public sealed class EngineBusyException(string message) : Exception(message);
