package io.nvsentinel.exporter.live.stream;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Events in flight, in stream order, and the committed position. Workers finish them in any order;
 * the committed position only moves over an unbroken run of finished events, so it never passes one
 * that is still in flight, and it moves under the same lock that orders the finishing, so two
 * workers finishing at once can never set it backwards. At most {@code capacity} events are in
 * flight: the reader waits for room. A stream that is given up (its token became unusable) gets a
 * new window; its workers still finishing on the old one can no longer move anything.
 *
 * @param <P> the stream position recorded with each event
 */
final class CommitWindow<P> {

  private static final class Entry<P> {
    final long sequence;
    final P position;
    boolean finished;

    Entry(long sequence, P position) {
      this.sequence = sequence;
      this.position = position;
    }
  }

  private final Semaphore room;
  private final Deque<Entry<P>> inOrder = new ArrayDeque<>();
  private final Map<Long, Entry<P>> bySequence = new HashMap<>();
  private long nextSequence;
  private P committed;

  CommitWindow(int capacity) {
    this.room = new Semaphore(capacity);
  }

  /**
   * Adds the next event, waiting up to {@code waitMillis} for room.
   *
   * @return its sequence number, or -1 if there was no room in time
   */
  long register(P position, long waitMillis) throws InterruptedException {
    if (!room.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
      return -1;
    }
    synchronized (this) {
      Entry<P> entry = new Entry<>(nextSequence++, position);
      inOrder.addLast(entry);
      bySequence.put(entry.sequence, entry);
      return entry.sequence;
    }
  }

  /**
   * Marks the event finished.
   *
   * @return how far the commit moved, or {@code null} if it did not move
   */
  synchronized Committed<P> finish(long sequence) {
    Entry<P> entry = bySequence.get(sequence);
    if (entry == null || entry.finished) {
      return null;
    }
    entry.finished = true;
    P moved = null;
    int count = 0;
    while (!inOrder.isEmpty() && inOrder.peekFirst().finished) {
      Entry<P> head = inOrder.removeFirst();
      bySequence.remove(head.sequence);
      moved = head.position;
      count++;
    }
    if (count == 0) {
      return null;
    }
    room.release(count);
    committed = moved;
    return new Committed<>(moved, count);
  }

  /** The position after the last event of the unbroken finished run; {@code null} before one. */
  synchronized P committed() {
    return committed;
  }

  /** Events registered and not yet committed. */
  synchronized int inFlight() {
    return inOrder.size();
  }

  /** A move of the committed position over {@code events} events, to {@code position}. */
  record Committed<P>(P position, int events) {}
}
