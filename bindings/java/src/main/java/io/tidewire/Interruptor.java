package io.tidewire;

import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.Set;

/**
 * Turns {@link Thread#interrupt()} into tw_stream_wakeup() while a thread waits in the core.
 *
 * <p>The JDK offers one public hook on interruption: {@link AbstractSelector#begin()} registers the
 * selector with the current thread, and interrupting that thread calls {@link #wakeup()}. This is
 * not a selector for channels; it only borrows that hook, so a wait in tw_stream_next ends as soon
 * as its thread is interrupted instead of at the end of a polling slice.
 */
final class Interruptor extends AbstractSelector {
  private final Runnable wakeup;

  Interruptor(Runnable wakeup) {
    super(SelectorProvider.provider());
    this.wakeup = wakeup;
  }

  /**
   * Before a native wait: from here on, interrupting this thread wakes the wait (at once if it
   * already is).
   */
  void beginWait() {
    begin();
  }

  /** After the native wait. */
  void endWait() {
    end();
  }

  @Override
  public Selector wakeup() {
    wakeup.run();
    return this;
  }

  @Override
  protected void implCloseSelector() {}

  @Override
  protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Set<SelectionKey> keys() {
    return Set.of();
  }

  @Override
  public Set<SelectionKey> selectedKeys() {
    return Set.of();
  }

  @Override
  public int selectNow() {
    return 0;
  }

  @Override
  public int select(long timeout) {
    return 0;
  }

  @Override
  public int select() {
    return 0;
  }
}
