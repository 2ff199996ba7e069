package io.pgtrickle.relay.target.redis;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.redis.RedisClients;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.Target;
import io.pgtrickle.relay.target.TargetException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.resps.StreamInfo;

/**
 * Publishes to Redis streams with entry ids derived from the position ({@code <offset>-<row_index+1>}),
 * so Redis itself refuses a repeat (its ids only grow) and {@link #lastPublished()} is the stream's
 * last generated id, which trimming and XDEL do not lower.
 */
public final class RedisTarget implements Target {
    /** Redis's reply to an XADD whose id is not above the stream's last id: the entry is already there. */
    static final String NOT_ABOVE_TOP = "The ID specified in XADD is equal or smaller than the target stream top item";
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Replies of a server that is starting, busy or failing over: retrying can succeed. */
    private static final List<String> TRANSIENT = List.of("LOADING", "BUSY", "TRYAGAIN", "OOM", "READONLY",
            "MASTERDOWN", "CLUSTERDOWN");

    private final SinkConfig.Redis config;
    private final String streamTable;
    private final Duration timeout;
    private RedisClient client;
    /** What the batches sent since the last flush did (they are written at once). */
    private PublishResult unflushed = PublishResult.NONE;

    public RedisTarget(SinkConfig.Redis config, String streamTable) {
        this(config, streamTable, DEFAULT_TIMEOUT);
    }

    /** {@code timeout} bounds connecting and every reply. */
    public RedisTarget(SinkConfig.Redis config, String streamTable, Duration timeout) {
        this.config = config;
        this.streamTable = streamTable;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return "redis " + config.endpoint().url() + " stream key " + config.streamKey();
    }

    @Override
    public void open() throws TargetException {
        try {
            client = RedisClients.create(config.endpoint(), timeout);
            client.ping();
        } catch (IllegalArgumentException e) {
            throw new TargetException(e.getMessage(), false, e);
        } catch (JedisException e) {
            throw failure("cannot connect to Redis at " + config.endpoint().url(), e);
        }
    }

    /** The entry id of a position: positions and ids order alike, and row index -1 never occurs. */
    static StreamEntryID entryId(OutboxPosition position) {
        return new StreamEntryID(position.offset(), position.rowIndex() + 1L);
    }

    static OutboxPosition position(StreamEntryID id) {
        return new OutboxPosition(id.getTime(), (int) (id.getSequence() - 1));
    }

    @Override
    public Optional<OutboxPosition> lastPublished() throws TargetException {
        OutboxPosition highest = null;
        for (String key : config.streamKey().expansions(streamTable)) {
            StreamInfo info;
            try {
                if (!client.exists(key)) {
                    continue;
                }
                info = client.xinfoStream(key);
            } catch (JedisException e) {
                throw failure("cannot read XINFO STREAM " + key + " at " + config.endpoint().url(), e);
            }
            StreamEntryID last = info.getLastGeneratedId();
            if (last == null || last.getSequence() == 0) {
                // 0-0: created empty (XGROUP ... MKSTREAM); no id of ours has sequence 0.
                continue;
            }
            OutboxPosition p = position(last);
            if (highest == null || p.compareTo(highest) > 0) {
                highest = p;
            }
        }
        return Optional.ofNullable(highest);
    }

    /** Writes the batch now: one pipelined round trip, whose replies tell a stored entry from a repeat. */
    @Override
    public void send(List<OutboundMessage> batch) throws TargetException {
        unflushed = unflushed.plus(write(batch));
    }

    @Override
    public PublishResult flush() {
        PublishResult r = unflushed;
        unflushed = PublishResult.NONE;
        return r;
    }

    private PublishResult write(List<OutboundMessage> batch) throws TargetException {
        List<Response<StreamEntryID>> replies = new ArrayList<>(batch.size());
        try (AbstractPipeline pipeline = client.pipelined()) {
            for (OutboundMessage m : batch) {
                XAddParams params = XAddParams.xAddParams().id(entryId(m.position()));
                if (config.maxlen() != null) {
                    params.maxLen(config.maxlen()).approximateTrimming();
                }
                replies.add(pipeline.xadd(m.destination(), params, fields(m)));
            }
            pipeline.sync();
        } catch (JedisException e) {
            throw failure("XADD of " + batch.size() + " entries to Redis at " + config.endpoint().url() + " failed", e);
        }
        int published = 0;
        int deduplicated = 0;
        for (int i = 0; i < replies.size(); i++) {
            try {
                replies.get(i).get();
                published++;
            } catch (JedisDataException e) {
                if (e.getMessage() != null && e.getMessage().contains(NOT_ABOVE_TOP)) {
                    deduplicated++;
                } else {
                    OutboundMessage m = batch.get(i);
                    throw failure("Redis refused XADD " + m.destination() + " " + entryId(m.position()) + " ("
                            + m.dedupKey() + ")", e);
                }
            }
        }
        return new PublishResult(published, deduplicated);
    }

    private static Map<String, String> fields(OutboundMessage m) {
        Map<String, String> fields = new LinkedHashMap<>();
        if (m.message().key() != null) {
            fields.put("key", m.message().key());
        }
        fields.put("value", m.message().value() == null ? "" : m.message().value());
        fields.putAll(m.message().headers());
        return fields;
    }

    private static TargetException failure(String what, JedisException e) {
        boolean retriable = e instanceof JedisConnectionException
                || (e.getMessage() != null && TRANSIENT.stream().anyMatch(e.getMessage()::startsWith));
        return new TargetException(what + ": " + e.getMessage(), retriable, e);
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
