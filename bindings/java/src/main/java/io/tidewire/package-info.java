/**
 * Tidewire for Java: one client for pull and push.
 *
 * <p>Open a {@link io.tidewire.Stream} on a source with {@link io.tidewire.Stream#builder} and read
 * {@link io.tidewire.Event}s from it, whatever the transport underneath ({@link
 * io.tidewire.Transport}: poll, long-poll, SSE, WebSocket, webhook). Reconnection, backoff, resume,
 * signature checks and backpressure are done by the C++ core this package wraps (through SWIG over
 * its C ABI, tidewire.h); every stream of a process is served by one shared I/O thread, started
 * with the first stream and stopped when the JVM exits.
 *
 * <p>Errors are unchecked: {@link io.tidewire.TidewireException} and its subclasses {@link
 * io.tidewire.ConfigException} and {@link io.tidewire.StreamException}.
 */
package io.tidewire;
