package io.pgtrickle.relay.source.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.redis.RedisClients;
import io.pgtrickle.relay.source.EventSource;
import io.pgtrickle.relay.source.InboundMessage;
import io.pgtrickle.relay.source.SourceException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;

/**
 * Consumes a Redis stream as one consumer of a consumer group. On open it first reads this
 * consumer's pending entries again (delivered before, never XACKed: the inbox may not hold them),
 * then new ones; an entry is XACKed only after the inbox committed it.
 */
public final class RedisEventSource implements EventSource {
    private static final Logger LOG = LoggerFactory.getLogger(RedisEventSource.class);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SourceConfig.Redis config;
    private final Duration timeout;
    private RedisClient client;
    /** Where the re-reading of pending entries has got to; null once they are all read. */
    private StreamEntryID pendingCursor;

    public RedisEventSource(SourceConfig.Redis config) {
        this(config, DEFAULT_TIMEOUT);
    }

    /** {@code timeout} bounds connecting and every reply; a poll blocks at most half of it. */
    public RedisEventSource(SourceConfig.Redis config, Duration timeout) {
        this.config = config;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return "redis " + config.endpoint().url() + " stream key " + config.streamKey() + " group " + config.group()
                + " consumer " + config.consumer();
    }

    @Override
    public void open(Map<String, String> committed) throws SourceException {
        try {
            client = RedisClients.create(config.endpoint(), timeout);
            client.xgroupCreate(config.streamKey(), config.group(), new StreamEntryID(0, 0), true);
        } catch (IllegalArgumentException e) {
            throw new SourceException(e.getMessage(), false, e);
        } catch (JedisDataException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("BUSYGROUP")) {
                throw failure("XGROUP CREATE " + config.streamKey() + " " + config.group() + " failed", e);
            }
            // The group exists: keep its position.
        } catch (JedisException e) {
            throw failure("cannot reach Redis at " + config.endpoint().url(), e);
        }
        pendingCursor = new StreamEntryID(0, 0);
    }

    @Override
    public List<InboundMessage> poll(int maxMessages, Duration timeout) throws SourceException {
        try {
            if (pendingCursor != null) {
                List<StreamEntry> pending = read(XReadGroupParams.xReadGroupParams().count(maxMessages), pendingCursor);
                if (!pending.isEmpty()) {
                    pendingCursor = pending.get(pending.size() - 1).getID();
                    return inbound(pending);
                }
                pendingCursor = null;
            }
            // The client's socket timeout must outlast the block, or a quiet stream reads as an outage.
            long block = Math.max(1, Math.min(timeout.toMillis(), this.timeout.toMillis() / 2));
            return inbound(read(XReadGroupParams.xReadGroupParams().count(maxMessages).block((int) block),
                    StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
        } catch (JedisException e) {
            throw failure("XREADGROUP on " + config.streamKey() + " failed", e);
        }
    }

    private List<StreamEntry> read(XReadGroupParams params, StreamEntryID from) {
        List<Map.Entry<String, List<StreamEntry>>> reply = client.xreadGroup(config.group(), config.consumer(), params,
                Map.of(config.streamKey(), from));
        List<StreamEntry> entries = new ArrayList<>();
        if (reply != null) {
            reply.forEach(e -> entries.addAll(e.getValue()));
        }
        return entries;
    }

    private List<InboundMessage> inbound(List<StreamEntry> entries) throws SourceException {
        List<InboundMessage> out = new ArrayList<>(entries.size());
        for (StreamEntry e : entries) {
            if (e.getFields() == null) {
                // A pending entry trimmed or deleted from the stream: there is nothing left to deliver.
                LOG.warn("{}: pending entry {} is no longer in the stream (trimmed or deleted); acknowledging it",
                        describe(), e.getID());
                client.xack(config.streamKey(), config.group(), e.getID());
                continue;
            }
            out.add(inbound(e));
        }
        return out;
    }

    private InboundMessage inbound(StreamEntry e) throws SourceException {
        Map<String, String> fields = e.getFields();
        Map<String, String> headers = new LinkedHashMap<>(fields);
        String key = headers.remove("key");
        String value = headers.remove("value");
        byte[] payload;
        if (value != null) {
            payload = value.getBytes(StandardCharsets.UTF_8);
        } else {
            try {
                payload = JSON.writeValueAsBytes(fields);
            } catch (JsonProcessingException ex) {
                throw new SourceException("cannot encode the fields of entry " + e.getID() + " as JSON", false, ex);
            }
        }
        String id = e.getID().toString();
        return new InboundMessage(config.streamKey(), config.streamKey(), id, "redis:" + config.streamKey() + "/" + id,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), payload, headers, null);
    }

    @Override
    public void acknowledge(List<InboundMessage> committed) throws SourceException {
        if (committed.isEmpty()) {
            return;
        }
        StreamEntryID[] ids = committed.stream().map(m -> new StreamEntryID(m.position())).toArray(StreamEntryID[]::new);
        try {
            client.xack(config.streamKey(), config.group(), ids);
        } catch (JedisException e) {
            throw failure("XACK on " + config.streamKey() + " failed; the entries come again and the inbox skips them", e);
        }
    }

    private static SourceException failure(String what, JedisException e) {
        return new SourceException(what + ": " + e.getMessage(), e instanceof JedisConnectionException, e);
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
