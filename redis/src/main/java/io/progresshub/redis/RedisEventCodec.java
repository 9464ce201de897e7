package io.progresshub.redis;

import io.progresshub.core.HubEvent;
import io.progresshub.store.json.JobJson;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one encoding of a {@link HubEvent} on a Redis channel, written by the append script and by
 * {@link RedisBroker}: lines {@code U}, origin node, {@link HubEvent.Change} name, job JSON ({@link
 * JobJson}) for an update; {@code R}, origin node, job id for a removal. The origin lets a node
 * skip its own events, which it has delivered locally already.
 */
final class RedisEventCodec {

  /** A decoded message: the event and the node that sent it. */
  record Message(String origin, HubEvent event) {}

  private RedisEventCodec() {}

  static String encode(String origin, HubEvent event) {
    return switch (event) {
      case HubEvent.JobUpdated updated -> {
        try {
          yield "U\n"
              + origin
              + "\n"
              + updated.change().name()
              + "\n"
              + JobJson.SORTED.write(updated.job());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      case HubEvent.JobRemoved removed -> "R\n" + origin + "\n" + removed.jobId();
    };
  }

  /**
   * @throws IllegalArgumentException or a {@code HubException} for a message not in this encoding
   */
  static Message decode(String text) {
    int kindEnd = text.indexOf('\n');
    int originEnd = kindEnd < 0 ? -1 : text.indexOf('\n', kindEnd + 1);
    if (kindEnd != 1 || originEnd < 0) {
      throw new IllegalArgumentException("not a progress-hub event: " + abbreviate(text));
    }
    String origin = text.substring(kindEnd + 1, originEnd);
    return switch (text.charAt(0)) {
      case 'R' -> new Message(origin, new HubEvent.JobRemoved(text.substring(originEnd + 1)));
      case 'U' -> {
        int changeEnd = text.indexOf('\n', originEnd + 1);
        if (changeEnd < 0) {
          throw new IllegalArgumentException("update without a state: " + abbreviate(text));
        }
        HubEvent.Change change = HubEvent.Change.valueOf(text.substring(originEnd + 1, changeEnd));
        yield new Message(
            origin,
            new HubEvent.JobUpdated(JobJson.SORTED.read(text.substring(changeEnd + 1)), change));
      }
      default -> throw new IllegalArgumentException("unknown event kind: " + abbreviate(text));
    };
  }

  private static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "...";
  }
}
