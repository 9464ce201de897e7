package io.progresshub.core.spi;

import io.progresshub.core.HubEvent;
import java.util.function.Consumer;

/**
 * Carries durable changes to every node, including the one that made them: the whole cluster
 * contract is {@link #publish} and {@link #subscribe}.
 *
 * <p>Contract: thread-safe; {@code publish} never drops an event and blocks only briefly: it may
 * wait while the broker's bounded backlog is full (back-pressure on the store's writer, which
 * publishes), but not on I/O to other nodes; events published from one thread reach each receiver
 * in that order; the receiver is called from one thread at a time and must not block, and an
 * exception it throws does not stop later deliveries. After {@link #close} nothing more is
 * delivered, and a publisher waiting for room returns.
 */
public interface Broker extends AutoCloseable {

  /** Sends the event to every node's receiver. */
  void publish(HubEvent event);

  /** Registers this node's receiver; called once, before the first publish. */
  void subscribe(Consumer<HubEvent> receiver);

  /**
   * Says whether this node needs every event of a job: it has local subscribers of it, or holds it
   * in its write cache (it wrote the job and the job is not finished). A broker may then carry the
   * job's ticks and stage changes only to nodes that need them; creations, status changes and
   * removals still reach every node (monitors follow them). Calls for one job alternate, {@code
   * true} first, in the order the reasons came and went. Must not block. The default ignores it:
   * every event still reaches every node.
   */
  default void interest(String jobId, boolean interested) {}

  /**
   * Registers what the broker calls with a job's id when it may have lost events of a job this node
   * has {@linkplain #interest interest} in: its connection to the other nodes dropped and came
   * back, or its subscription to the job just became active. The node then reads the job from the
   * store and gives its subscribers what they missed. Called once, before the first publish; the
   * callback may read the store, so the broker calls it off its I/O threads. The default never
   * calls it: a broker that loses nothing needs no repair.
   */
  default void onMissed(Consumer<String> jobId) {}

  @Override
  void close();
}
