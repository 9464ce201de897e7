package io.progresshub.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One WebSocket client connection, hand-rolled for a small footprint and cheap reads: the handshake
 * is a fixed request and a check for "101", frames are parsed in place (server frames are
 * unmasked), text messages are scanned by {@link MessageScan}, pings are answered. The connection
 * object outlives its sockets, so a reconnect keeps what it has seen ({@code lastSeq}, {@code
 * lastStage}) and the ordering and loss checks span reconnects.
 *
 * <p>Event loop only.
 */
final class WsConn {
  static final int NEW = 0;
  static final int CONNECTING = 1;
  static final int OPEN = 2;
  static final int CLOSED = 3;

  final Clients clients;
  final int index;
  final String jobId;

  Channel channel;
  int state = NEW;

  /** Reconnect with {@code ?since=}: the last seq seen, or -1 for none. */
  long since = -1;

  // What this subscriber has seen (across reconnects).
  long lastSeq = -1;
  int lastStage = -1;
  long received;

  /** Seq numbers skipped (conflated by the server, or lost). */
  long gaps;

  /** A seq at or below one already seen (a duplicate or reordering): must stay 0. */
  long outOfOrder;

  /**
   * Replayed states at or below a seq already seen, after a resume with {@code since}: the protocol
   * lets a client de-duplicate these by seq, so they are counted, not failed.
   */
  long resentOnResume;

  /** Stages skipped: transitions that never arrived. Must stay 0. */
  long lostTransitions;

  boolean subscribed;
  boolean terminal;
  long terminalSeq = -1;
  int closeCode = -1;
  int connects;

  /** Which socket is current: events from an older one (after a drop and reconnect) are ignored. */
  int generation;

  long connectStartedNanos;
  long subscribedNanos;
  String failure;

  /** Scratch for scenarios (round markers, phase counters). */
  long mark;

  // Slow-reader mode. Netty caches a channel's read-size handle at its first read, so a connection
  // meant to read slowly is given its small reads (and small receive buffer) when it connects.
  boolean slow;

  /** When > 0 before {@link #connect}: reads of at most this many bytes, one per read call. */
  int slowReadBytes;

  WsConn(Clients clients, int index, String jobId) {
    this.clients = clients;
    this.index = index;
    this.jobId = jobId;
  }

  void connect() {
    state = CONNECTING;
    subscribed = false;
    connects++;
    connectStartedNanos = System.nanoTime();
    Bootstrap b = clients.net.bootstrap();
    if (slowReadBytes > 0) {
      b.option(ChannelOption.SO_RCVBUF, Math.max(1024, slowReadBytes));
      b.option(
          ChannelOption.RECVBUF_ALLOCATOR,
          new FixedRecvByteBufAllocator(slowReadBytes).maxMessagesPerRead(1));
    }
    generation++;
    b.handler(new Codec(this, generation));
    int connectGeneration = generation;
    b.connect()
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (!f.isSuccess() && generation == connectGeneration) {
                    failed("connect: " + f.cause());
                  }
                });
  }

  /** Drops the connection abruptly (no close frame), as a network blip would. */
  void drop() {
    if (channel != null) {
      channel.close();
    }
  }

  /** Sends a close frame (1000) and closes. */
  void close() {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ByteBuf frame = Unpooled.buffer(8);
      frame.writeByte(0x88).writeByte(0x80 | 2).writeInt(0).writeShort(1000);
      ch.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
    } else if (ch != null) {
      ch.close();
    }
  }

  /**
   * Slow mode (for a connection created with {@code slowReadBytes > 0}): stop reading; from now on
   * only {@link #readOnce} reads, {@code slowReadBytes} at a time.
   */
  void readSlowly() {
    slow = true;
    if (channel != null) {
      channel.config().setAutoRead(false);
    }
  }

  /** One slow read (a no-op unless in slow mode). */
  void readOnce() {
    if (slow && channel != null && channel.isActive()) {
      channel.read();
    }
  }

  /** Back to reading everything as it comes. */
  void readFast() {
    slow = false;
    if (channel != null) {
      channel.config().setAutoRead(true);
    }
  }

  private void failed(String why) {
    failure = why;
    if (state != CLOSED) {
      state = CLOSED;
      clients.onClosed(this);
    }
  }

  private void onText(MessageScan m) {
    switch (m.type) {
      case MessageScan.PROGRESS -> onProgress(m);
      case MessageScan.SUBSCRIBED -> {
        subscribed = true;
        subscribedNanos = System.nanoTime();
        clients.onSubscribed(this);
      }
      case MessageScan.ERROR -> clients.errors++;
      default -> {}
    }
  }

  private void onProgress(MessageScan m) {
    long now = System.nanoTime();
    received++;
    if (m.seq >= 0) {
      if (lastSeq >= 0 && m.seq <= lastSeq) {
        if (m.replay) {
          resentOnResume++;
        } else {
          outOfOrder++;
        }
        return;
      }
      if (lastSeq >= 0) {
        gaps += m.seq - lastSeq - 1;
      }
      lastSeq = m.seq;
    }
    if (m.stage >= 0) {
      if (m.stage > lastStage + 1) {
        lostTransitions += m.stage - lastStage - 1;
      }
      if (m.stage > lastStage) {
        lastStage = m.stage;
      }
    }
    if (m.terminal) {
      terminal = true;
      terminalSeq = m.seq;
    }
    clients.onProgress(this, m, now);
  }

  /** The frame reader and handshake writer of one socket. */
  private static final class Codec extends ByteToMessageDecoder {
    private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};
    private final WsConn conn;
    private final int generation;
    private boolean upgraded;

    Codec(WsConn conn, int generation) {
      this.conn = conn;
      this.generation = generation;
    }

    private boolean stale() {
      return generation != conn.generation;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      if (stale()) {
        ctx.close();
        return;
      }
      conn.channel = ctx.channel();
      StringBuilder req = new StringBuilder(256);
      req.append("GET ").append(conn.clients.path).append(conn.jobId);
      if (conn.since >= 0) {
        req.append("?since=").append(conn.since);
      }
      req.append(" HTTP/1.1\r\nHost: ")
          .append(conn.clients.net.host)
          .append(':')
          .append(conn.clients.net.port)
          .append(
              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  + "Sec-WebSocket-Version: 13\r\n");
      String token = conn.clients.auth.tokenFor(conn.index);
      if (token != null) {
        req.append("Authorization: Bearer ").append(token).append("\r\n");
      }
      req.append("\r\n");
      ctx.writeAndFlush(Unpooled.wrappedBuffer(req.toString().getBytes(StandardCharsets.US_ASCII)));
      super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (stale()) {
        in.skipBytes(in.readableBytes());
        ctx.close();
        return;
      }
      if (!upgraded) {
        int end = ByteBufUtil.indexOf(Unpooled.wrappedBuffer(CRLFCRLF), in);
        if (end < 0) {
          if (in.readableBytes() > 16384) {
            conn.failed("handshake: response headers too large");
            ctx.close();
          }
          return;
        }
        String status = in.toString(in.readerIndex(), Math.min(12, end), StandardCharsets.US_ASCII);
        if (!status.startsWith("HTTP/1.1 101")) {
          String head =
              in.toString(
                  in.readerIndex(),
                  Math.min(200, end - in.readerIndex()),
                  StandardCharsets.US_ASCII);
          conn.failed("handshake: " + head.lines().findFirst().orElse(head));
          in.skipBytes(in.readableBytes());
          ctx.close();
          return;
        }
        in.readerIndex(end + 4);
        upgraded = true;
        conn.state = OPEN;
        conn.clients.onOpen(conn);
      }
      while (in.readableBytes() >= 2) {
        int start = in.readerIndex();
        int b0 = in.getUnsignedByte(start);
        int b1 = in.getUnsignedByte(start + 1);
        int opcode = b0 & 0x0f;
        long length = b1 & 0x7f;
        int header = 2;
        if (length == 126) {
          if (in.readableBytes() < 4) {
            return;
          }
          length = in.getUnsignedShort(start + 2);
          header = 4;
        } else if (length == 127) {
          if (in.readableBytes() < 10) {
            return;
          }
          length = in.getLong(start + 2);
          header = 10;
        }
        if ((b1 & 0x80) != 0 || length > 16 * 1024 * 1024) {
          conn.failed("protocol: masked or huge server frame");
          in.skipBytes(in.readableBytes());
          ctx.close();
          return;
        }
        if (in.readableBytes() < header + length) {
          return;
        }
        int payload = start + header;
        int len = (int) length;
        in.readerIndex(payload + len);
        switch (opcode) {
          case 0x1 -> {
            // Messages arrive in one frame each from every server under test; a fragmented one
            // would be counted as a protocol oddity rather than reassembled.
            if ((b0 & 0x80) == 0) {
              conn.clients.fragmented++;
            }
            byte[] scratch = conn.clients.scratch(len);
            in.getBytes(payload, scratch, 0, len);
            conn.onText(conn.clients.msg.parse(scratch, len));
          }
          case 0x8 -> {
            conn.closeCode = len >= 2 ? in.getUnsignedShort(payload) : 1005;
            ByteBuf reply = ctx.alloc().buffer(8);
            reply.writeByte(0x88).writeByte(0x80 | 2).writeInt(0).writeShort(conn.closeCode);
            ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
            in.skipBytes(in.readableBytes());
            return;
          }
          case 0x9 -> {
            ByteBuf pong = ctx.alloc().buffer(6 + len);
            pong.writeByte(0x8A).writeByte(0x80 | len).writeInt(0);
            pong.writeBytes(in, payload, len);
            ctx.writeAndFlush(pong);
          }
          default -> {}
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      if (conn.slow) {
        // ByteToMessageDecoder would call read() again when nothing was decoded into its list
        // (always, here): in slow mode only the scheduled readOnce() reads.
        ctx.fireChannelReadComplete();
      } else {
        super.channelReadComplete(ctx);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      super.channelInactive(ctx);
      if (stale()) {
        return;
      }
      if (conn.channel == ctx.channel()) {
        conn.channel = null;
      }
      if (conn.state != CLOSED) {
        conn.state = CLOSED;
        conn.clients.onClosed(conn);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (conn.failure == null) {
        conn.failure = cause.toString();
      }
      ctx.close();
    }
  }
}
