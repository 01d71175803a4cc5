package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** A Standard Webhooks sender in a few lines of javax.crypto, for the receiver tests. */
final class Webhooks {
  static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  static final String FORGED_SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("not the receiver's secret".getBytes(UTF_8));

  private Webhooks() {}

  /** The webhook-signature value: "v1," + base64(HMAC-SHA256(secret, id.timestamp.body)). */
  static String sign(String secret, String id, long timestamp, byte[] body) {
    try {
      byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update((id + "." + timestamp + ".").getBytes(UTF_8));
      return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** POSTs a delivery signed with {@code secret}; returns the HTTP status. */
  static int deliver(String url, String secret, String id, String body) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    byte[] bytes = body.getBytes(UTF_8);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", Long.toString(now))
            .header("webhook-signature", sign(secret, id, now, bytes))
            .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
            .build();
    return Peer.HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
