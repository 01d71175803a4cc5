package io.tidewire;

import java.util.NoSuchElementException;
import java.util.concurrent.Flow;

/**
 * Feeds one Flow.Subscriber from a Java thread of its own, as fast as the subscriber requests: the
 * thread pulls from the stream like any reader, so nothing runs on the core's I/O thread.
 * Cancelling interrupts a wait for the next event.
 */
final class Dispatcher implements Flow.Subscription, Runnable {
  private final Stream stream;
  private final Flow.Subscriber<? super Event> subscriber;
  private final Thread thread;
  // Guarded by this.
  private long demand;
  private boolean cancelled;
  private boolean waiting; // in stream.take(): cancel() interrupts the thread
  private IllegalArgumentException badRequest;

  Dispatcher(Stream stream, Flow.Subscriber<? super Event> subscriber) {
    this.stream = stream;
    this.subscriber = subscriber;
    thread = new Thread(this, "tidewire-dispatcher " + stream.url());
    // Like the streams themselves, delivery never keeps the JVM from exiting.
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  @Override
  public synchronized void request(long n) {
    if (cancelled) return;
    if (n <= 0) {
      if (badRequest == null) {
        badRequest =
            new IllegalArgumentException(
                "request(" + n + "): the demand must be positive (Reactive Streams rule 3.9)");
      }
    } else {
      demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
    }
    notifyAll();
  }

  @Override
  public synchronized void cancel() {
    if (cancelled) return;
    cancelled = true;
    notifyAll();
    if (waiting) thread.interrupt();
  }

  @Override
  public void run() {
    try {
      subscriber.onSubscribe(this);
      while (awaitDemand()) {
        Event event;
        try {
          event = stream.take(0, true);
        } catch (NoSuchElementException end) {
          if (finish()) subscriber.onComplete();
          return;
        } catch (InterruptedException cancelledWhileWaiting) {
          return;
        } catch (RuntimeException failure) {
          if (finish()) subscriber.onError(failure);
          return;
        } finally {
          synchronized (this) {
            waiting = false;
          }
          Thread.interrupted(); // a cancel() that came just after the event did
        }
        synchronized (this) {
          if (cancelled) return;
          demand--;
        }
        subscriber.onNext(event);
      }
    } catch (Throwable subscriberFailed) {
      // A subscriber that throws has broken rule 2.13: its subscription is cancelled.
      cancel();
    }
  }

  /** Waits for demand; false once cancelled. Signals onError for a bad request. */
  private boolean awaitDemand() {
    IllegalArgumentException error;
    synchronized (this) {
      try {
        while (demand == 0 && !cancelled && badRequest == null) wait();
      } catch (InterruptedException e) {
        cancelled = true;
      }
      if (cancelled) return false;
      error = badRequest;
      if (error == null) {
        waiting = true;
        return true;
      }
      cancelled = true;
    }
    subscriber.onError(error);
    return false;
  }

  /** Marks the subscription done; false if it was cancelled (then no terminal signal is sent). */
  private synchronized boolean finish() {
    if (cancelled) return false;
    cancelled = true;
    return true;
  }
}
