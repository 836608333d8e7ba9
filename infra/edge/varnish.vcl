vcl 4.1;
# camstream's caching edge for LL-HLS (Varnish 7, Debian's `varnish` package). Put it in front of the
# web service on any number of machines; TLS in front of it (infra/edge/README.md says how to stack
# Caddy or nginx → Varnish → the service, and how to run it: infra/edge/varnish.service.conf).
#
# What it does for /hls/ (everything else passes through uncached):
# - one cache key per meaning: the path and only the query the service reads (_HLS_msn, _HLS_part,
#   _HLS_skip and a signed URL's token), sorted; anything else (?cachebust=…) is dropped;
# - request coalescing: the first request for a key goes to the service, the others wait on Varnish's
#   waiting list and are all answered as soon as its answer arrives (blocking reloads and
#   preload-hinted parts included: one request per playlist version and part per edge);
# - TTLs from the service's Cache-Control: parts, segments and init segments a year (their names are
#   never reused), the live playlist 1 s (s-maxage), a blocking reload's answer 3 target durations;
#   playlists are never served stale (no grace), so a blocking request never gets an old answer;
# - never a cached error: 4xx and 5xx leave a 1 s hit-for-miss at most (the service says no-store);
# - answers stream to the viewers as they arrive from the service (no buffering to do).
#
# test/edge.test.ts runs this file (its backend port changed) in front of the real service.

import std;

backend camstream {
    # The web service (HOST=127.0.0.1, PORT=8080 by default). Another machine: its address here.
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 2s;
    # A blocking reload is held up to 3 target durations (HLS_SEGMENT_SECONDS, 1 s by default) before
    # the service answers 503; 15 s allows targets up to 5 s.
    .first_byte_timeout = 15s;
    .between_bytes_timeout = 10s;
}

sub vcl_recv {
    # The service answers /metrics to loopback clients, and Varnish is one: keep it off the edge
    # (scrape the service on its host, or set METRICS_TOKEN and remove this).
    if (req.url ~ "^/metrics") {
        return (synth(404));
    }
    # Server-sent events: one response open for hours, not for a cache.
    if (req.url ~ "^/api/.*/events(\?|$)") {
        return (pipe);
    }
    if (req.url !~ "^/hls/") {
        # The API (WHEP's offer and answer too) and the web client: passed, never cached.
        return (pass);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        # OPTIONS (CORS preflight): the service answers it.
        return (pass);
    }
    if (req.http.Authorization) {
        # A Bearer token: the service answers `private` (the player's alone). Caching it here keyed
        # on the token would only share it between viewers of one token; pass it through instead.
        # Viewers that should share the edge use a signed URL (?token=) or a service without tokens.
        return (pass);
    }
    # Cookies mean nothing to /hls.
    unset req.http.Cookie;

    # One key per meaning: keep only the query the service reads, in one order.
    set req.url = regsuball(req.url, "(?<=[?&])(?!(?:_HLS_msn|_HLS_part|_HLS_skip|token)=)[^&]*(?:&|$)", "");
    set req.url = regsub(req.url, "[?&]+$", "");
    set req.url = std.querysort(req.url);

    if (req.url ~ "\.m3u8(\?|$)") {
        # A playlist past its TTL is fetched again, never served stale while it is.
        set req.grace = 0s;
    }
    return (hash);
}

sub vcl_pipe {
    # Server-sent events: one request per connection.
    set bereq.http.Connection = "close";
}

sub vcl_backend_response {
    if (bereq.url !~ "^/hls/" || bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.status >= 400) {
        # Never cached. A hit-for-miss of 1 s: the requests waiting for this key are released at once
        # (each asks the service itself) instead of queueing for one more fetch after another.
        set beresp.ttl = 1s;
        set beresp.grace = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.http.Cache-Control ~ "(?i)no-store|private") {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (bereq.url ~ "\.m3u8(\?|$)") {
        # beresp.ttl is the service's s-maxage / max-age: 1 s for the live playlist, 3 target
        # durations for a blocking reload's answer. Never longer than that, never stale.
        if (bereq.url !~ "[?&]_HLS_msn=" && beresp.ttl > 1s) {
            set beresp.ttl = 1s;
        }
        set beresp.grace = 0s;
        set beresp.keep = 0s;
    }
    # Parts, segments and init segments: the service's max-age (a year); least recently used ones
    # leave memory first (-s malloc,<size>).
    return (deliver);
}

sub vcl_deliver {
    # Which viewer got a cached answer (HIT), a coalesced one or the service's (MISS): for debugging.
    if (req.url ~ "^/hls/") {
        if (obj.hits > 0) {
            set resp.http.X-Cache = "HIT";
        } else {
            set resp.http.X-Cache = "MISS";
        }
    }
}
