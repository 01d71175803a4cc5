package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java half of the receive path: one JNI call (tw_jni_next_batch in tidewire.i) takes up to
 * {@link #CAPACITY} events and copies them into this object's arrays, then {@link #drainTo} makes
 * the Events from those arrays in Java. The arrays are reused from call to call, so a batch of small
 * messages allocates only its Events and their payloads. Each reading thread has one ({@link
 * #local()}), emptied before the thread reads another stream: the arrays cost a few KiB per thread
 * (at most KEEP_BYTES more after large batches), not per stream, however many are open.
 */
final class Batch {
  private static final ThreadLocal<Batch> LOCAL = ThreadLocal.withInitial(Batch::new);

  /** Events taken from the core per call: one lock and one JNI crossing per batch. */
  static final int CAPACITY = 64;

  /**
   * Shared bytes kept from batch to batch: room for a full batch of payloads just under
   * TW_JNI_OWN_ARRAY. A larger array (large ids or types) is dropped after its batch.
   */
  private static final int KEEP_BYTES = 512 << 10;

  /** Room for a batch of 64-byte messages; the native side grows it when a batch needs more. */
  private static final int INITIAL_BYTES = CAPACITY * 64;

  private static final int FIELDS = tw_jni_batch.TW_JNI_FIELDS;
  private static final byte[] EMPTY = new byte[0];

  private final long[] fields = new long[1 + CAPACITY * FIELDS];
  private final Object[] storage = {new byte[INITIAL_BYTES]};
  private final Object[] objects = new Object[2 * CAPACITY];

  // Types repeat ("text", "binary", an SSE event name): decoded once, then compared byte for byte.
  private final byte[][] typeKeys = new byte[4][];
  private final String[] typeNames = new String[4];
  private int typeNext;

  /** The calling thread's. */
  static Batch local() {
    return LOCAL.get();
  }

  /**
   * Waits up to timeoutMs for events of {@code stream}; returns tw_stream_next_batch's result. What
   * it took is held here until {@link #drainTo}, whatever the result.
   */
  int take(long stream, int timeoutMs) {
    try {
      return TidewireNative.tw_jni_next_batch(
          stream, CAPACITY, timeoutMs, fields, storage, objects);
    } catch (RuntimeException | Error e) {
      forget();
      throw e;
    }
  }

  /**
   * After a native call threw (out of memory): it may have left arrays of events it then lost, which
   * the next batch must not take for its own.
   */
  private void forget() {
    Arrays.fill(objects, null);
  }

  /** Makes Events of what {@link #take} took and adds them to {@code into}, in order. */
  void drainTo(Collection<? super Event> into) {
    int count = (int) fields[0];
    fields[0] = 0;
    byte[] bytes = (byte[]) storage[0];
    int at = 0;
    for (int i = 0; i < count; i++) {
      int f = 1 + i * FIELDS;
      int idLen = (int) fields[f + tw_jni_batch.TW_JNI_ID_LEN];
      String id = idLen == 0 ? "" : new String(bytes, at, idLen, UTF_8);
      at += idLen;
      int typeLen = (int) fields[f + tw_jni_batch.TW_JNI_TYPE_LEN];
      String type = type(bytes, at, typeLen);
      at += typeLen;
      byte[] data = (byte[]) objects[2 * i];
      if (data != null) {
        objects[2 * i] = null;
      } else {
        int dataLen = (int) fields[f + tw_jni_batch.TW_JNI_DATA_LEN];
        data = dataLen == 0 ? EMPTY : Arrays.copyOfRange(bytes, at, at + dataLen);
        at += dataLen;
      }
      Map<String, String> headers = Map.of();
      if (objects[2 * i + 1] != null) {
        headers = headers((byte[][]) objects[2 * i + 1]);
        objects[2 * i + 1] = null;
      }
      into.add(
          new Event(
              Kind.fromNative((int) fields[f + tw_jni_batch.TW_JNI_KIND]),
              Transport.fromNative((int) fields[f + tw_jni_batch.TW_JNI_TRANSPORT]),
              id,
              type,
              data,
              headers,
              fields[f + tw_jni_batch.TW_JNI_RECEIVED_NS],
              (int) fields[f + tw_jni_batch.TW_JNI_ERROR],
              (int) fields[f + tw_jni_batch.TW_JNI_HTTP_STATUS],
              (int) fields[f + tw_jni_batch.TW_JNI_CLOSE_CODE],
              fields[f + tw_jni_batch.TW_JNI_RETRY_MS]));
    }
    if (bytes.length > KEEP_BYTES) storage[0] = new byte[INITIAL_BYTES];
  }

  private String type(byte[] bytes, int at, int len) {
    if (len == 0) return "";
    for (int i = 0; i < typeKeys.length && typeKeys[i] != null; i++) {
      byte[] key = typeKeys[i];
      if (Arrays.equals(key, 0, key.length, bytes, at, at + len)) return typeNames[i];
    }
    String name = new String(bytes, at, len, UTF_8);
    typeKeys[typeNext] = Arrays.copyOfRange(bytes, at, at + len);
    typeNames[typeNext] = name;
    typeNext = (typeNext + 1) % typeKeys.length;
    return name;
  }

  private static Map<String, String> headers(byte[][] pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      map.put(Native.text(pairs[i]), Native.text(pairs[i + 1]));
    }
    return Collections.unmodifiableMap(map);
  }
}
