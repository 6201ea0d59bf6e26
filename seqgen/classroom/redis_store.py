"""RedisStore: class mode in a Redis server (SEQGEN_CLASS_STORE=redis://host:port/db), for app processes on
several machines, or to push changes instead of polling them.

Keys of class C (all under `seqgen:class:C`, listed by `_keys`): the class hash (secret digest, counters,
stage, question), the students hash (key -> seat and nickname), `seen` (a sorted set: key -> last heartbeat),
`following`, the rate-limit buckets, the current question's answers, the drawings (meta, pixels, the hidden
set, a count per student), the runs (meta, pictures, the order they came in). `seqgen:classes` is the index of
every class by its expiry time, which expire_idle reads.

Every write is one Lua script (SCRIPTS): Redis runs a script with nothing else in between, so a script's
checks (the class is live, the caller a member, the cap, the bucket) and its writes are one atomic step, as an
SQLite transaction is. Each script ends in `changed()`: the counters it announces, the class's expiry pushed
back, and a PUBLISH on `seqgen:class:C:changes` ("version activity ended", or "gone" when the class is
deleted), which `watch` (the SSE poller) waits on instead of polling; a slow poll (BACKSTOP_S) covers a
message lost while reconnecting. Time comes from the caller (ARGV[1]) so every process and the tests agree on
the clock they pass. For a single Redis server (the keys of a class share no hash slot with the index).
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable

import redis
import redis.asyncio

from .base import BaseStore, ClassRow, StudentRow
from .errors import refused
from .records import Drawing, Versions
from .security import normalise_code
from .settings import Settings

INDEX = "seqgen:classes"
KEY_NAMES = ("class", "index", "students", "seen", "following", "bucket", "answers", "drawings", "pixels", "hidden",
             "drawcount", "runs", "runpng", "runorder")
BACKSTOP_S = 5.0             # watch re-reads the counters at least this often, messages or not
RECONNECT_S = 1.0
SOCKET_TIMEOUT_S = 5.0

# Shared by every script: KEYS are KEY_NAMES in order; ARGV[1] now, ARGV[2] idle timeout, ARGV[3] the code.
PRELUDE = "local NAMES = {" + ", ".join(f"'{n}'" for n in KEY_NAMES) + "}\n" + """
local K = {}
for i, name in ipairs(NAMES) do K[name] = KEYS[i] end
local now, idle, code = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function live()
  local h = redis.call('HMGET', K.class, 'expires_at', 'ended')
  if not h[1] or tonumber(h[1]) < now then return 'unknown_class' end
  if h[2] == '1' then return 'ended' end
  return nil
end
local function member(key)
  return redis.call('HEXISTS', K.students, key) == 1
end
local function touch()
  redis.call('HSET', K.class, 'expires_at', string.format('%.17g', now + idle))
  redis.call('ZADD', K.index, now + idle, code)
end
local function changed(version, activity)
  if version > 0 then redis.call('HINCRBY', K.class, 'version', version) end
  if activity > 0 then redis.call('HINCRBY', K.class, 'activity', activity) end
  touch()
  local h = redis.call('HMGET', K.class, 'version', 'activity', 'ended')
  redis.call('PUBLISH', K.class .. ':changes', h[1] .. ' ' .. h[2] .. ' ' .. h[3])
end
-- the token bucket of security.take_token, in the same arithmetic
local function take_token(key, rate, burst)
  local tokens, at = burst, now
  local b = redis.call('HGET', K.bucket, key)
  if b then
    local sep = string.find(b, ':', 1, true)
    tokens, at = tonumber(string.sub(b, 1, sep - 1)), tonumber(string.sub(b, sep + 1))
  end
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  if tokens < 1 then return false end
  redis.call('HSET', K.bucket, key, string.format('%.17g:%.17g', tokens - 1, now))
  return true
end
"""

SCRIPTS = {
    # ARGV 4 secret digest, 5 stage, 6 question, 7 capacity
    "create": """
if redis.call('EXISTS', K.class) == 1 then return {'taken'} end
redis.call('HSET', K.class, 'secret', ARGV[4], 'created', ARGV[1], 'ended', '0', 'version', '0', 'activity', '0',
           'capacity', ARGV[7], 'seats', '0', 'stage', ARGV[5], 'question', ARGV[6],
           'question_id', ARGV[6] ~= '' and '1' or '0', 'revealed', '0', 'drawing_seq', '0')
changed(1, 1)
return {'ok'}
""",
    # ARGV 4 stage, 5 question
    "set_stage": """
local bad = live() if bad then return {bad} end
if redis.call('HGET', K.class, 'question') ~= ARGV[5] then
  redis.call('HINCRBY', K.class, 'question_id', 1)
  redis.call('HSET', K.class, 'revealed', '0')
  redis.call('DEL', K.answers)
end
redis.call('HSET', K.class, 'stage', ARGV[4], 'question', ARGV[5])
changed(1, 0)
return {'ok'}
""",
    "reveal": """
local bad = live() if bad then return {bad} end
if redis.call('HGET', K.class, 'question') == '' then return {'closed'} end
redis.call('HSET', K.class, 'revealed', '1')
changed(1, 0)
return {'ok'}
""",
    # ARGV 4 student key, 5 nickname ('' for none), 6 seats count from (now - seat timeout)
    "join": """
local bad = live() if bad then return {bad} end
local capacity = tonumber(redis.call('HGET', K.class, 'capacity'))
if redis.call('ZCOUNT', K.seen, ARGV[6], '+inf') >= capacity then return {'full', capacity} end
local seat = redis.call('HINCRBY', K.class, 'seats', 1)
redis.call('HSET', K.students, ARGV[4], cjson.encode({seat = seat, nickname = ARGV[5]}))
redis.call('ZADD', K.seen, ARGV[1], ARGV[4])
redis.call('HSET', K.following, ARGV[4], '1')
changed(0, 1)
return {'ok', seat}
""",
    # ARGV 4 student key, 5 question id, 6 answer JSON, 7 rate, 8 burst
    "answer": """
local bad = live() if bad then return {bad} end
if not member(ARGV[4]) then return {'not_member'} end
local q = redis.call('HMGET', K.class, 'question_id', 'revealed')
if q[1] ~= ARGV[5] then return {'question_changed'} end
if q[2] == '1' then return {'revealed'} end
if not take_token(ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[8])) then return {'too_fast'} end
redis.call('HSET', K.answers, ARGV[4], ARGV[6])
redis.call('ZADD', K.seen, ARGV[1], ARGV[4])
changed(0, 1)
return {'ok'}
""",
    # ARGV 4 student key, 5 pixels, 6 meta JSON, 7 rate, 8 burst, 9 drawings per student
    "submit_drawing": """
local bad = live() if bad then return {bad} end
if not member(ARGV[4]) then return {'not_member'} end
local most = tonumber(ARGV[9])
if tonumber(redis.call('HGET', K.drawcount, ARGV[4]) or '0') >= most then return {'too_many', most} end
if not take_token(ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[8])) then return {'too_fast'} end
local id = redis.call('HINCRBY', K.class, 'drawing_seq', 1)
redis.call('HSET', K.drawings, id, ARGV[6])
redis.call('HSET', K.pixels, id, ARGV[5])
redis.call('HINCRBY', K.drawcount, ARGV[4], 1)
redis.call('ZADD', K.seen, ARGV[1], ARGV[4])
changed(0, 1)
return {'ok', id}
""",
    # ARGV 4 drawing id, 5 '1' hide / '0' show
    "hide_drawing": """
local bad = live() if bad then return {bad} end
if redis.call('HEXISTS', K.drawings, ARGV[4]) == 0 then return {'no_drawing'} end
if ARGV[5] == '1' then redis.call('SADD', K.hidden, ARGV[4]) else redis.call('SREM', K.hidden, ARGV[4]) end
changed(0, 1)
return {'ok'}
""",
    # ARGV 4 student key, 5 following '1'/'0', 6 silent before this time
    "heartbeat": """
local bad = live() if bad then return {bad} end
if not member(ARGV[4]) then return {'not_member'} end
local last = tonumber(redis.call('ZSCORE', K.seen, ARGV[4]) or '0')
local was = redis.call('HGET', K.following, ARGV[4])
redis.call('ZADD', K.seen, ARGV[1], ARGV[4])
redis.call('HSET', K.following, ARGV[4], ARGV[5])
if was ~= ARGV[5] or last < tonumber(ARGV[6]) then changed(0, 1) else touch() end
return {'ok'}
""",
    "touch": """
local bad = live() if bad then return {bad} end
touch()
return {'ok'}
""",
    # ARGV 4 run id, 5 meta JSON, 6 picture ('' for none), 7 runs per class
    "publish_run": """
local bad = live() if bad then return {bad} end
local fresh = redis.call('HEXISTS', K.runs, ARGV[4]) == 0
if fresh then
  while redis.call('ZCARD', K.runorder) >= tonumber(ARGV[7]) do
    local oldest = redis.call('ZRANGE', K.runorder, 0, 0)[1]
    redis.call('HDEL', K.runs, oldest)
    redis.call('HDEL', K.runpng, oldest)
    redis.call('ZREM', K.runorder, oldest)
  end
  redis.call('ZADD', K.runorder, ARGV[1], ARGV[4])
end
redis.call('HSET', K.runs, ARGV[4], ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', K.runpng, ARGV[4], ARGV[6]) else redis.call('HDEL', K.runpng, ARGV[4]) end
if fresh then changed(1, 0) else changed(0, 0) end
return {'ok'}
""",
    # ARGV 4 grace after the end
    "end": """
local h = redis.call('HMGET', K.class, 'expires_at', 'ended')
if not h[1] or tonumber(h[1]) < now then return {'unknown_class'} end
if h[2] == '1' then return {'ok'} end
redis.call('DEL', K.students, K.seen, K.following, K.bucket, K.answers, K.drawings, K.pixels, K.hidden, K.drawcount,
           K.runs, K.runpng, K.runorder)
redis.call('HSET', K.class, 'ended', '1')
idle = tonumber(ARGV[4])
changed(1, 1)
return {'ok'}
""",
    "expire": """
local expires = redis.call('HGET', K.class, 'expires_at')
if expires and tonumber(expires) >= now then return {'alive'} end
redis.call('DEL', K.class, K.students, K.seen, K.following, K.bucket, K.answers, K.drawings, K.pixels, K.hidden,
           K.drawcount, K.runs, K.runpng, K.runorder)
redis.call('ZREM', K.index, code)
redis.call('PUBLISH', K.class .. ':changes', 'gone')
return {'ok'}
""",
}


def _keys(code: str) -> list[str]:
    base = f"seqgen:class:{code}"
    return [base, INDEX, *(f"{base}:{name}" for name in KEY_NAMES[2:])]


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8")


class RedisStore(BaseStore):
    UNAVAILABLE = (redis.RedisError, OSError)

    def __init__(self, url: str, settings: Settings | None = None, clock: Callable[[], float] = time.time):
        super().__init__(settings, clock)
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S,
                                           health_check_interval=30)
        self._scripts = {name: self.client.register_script(PRELUDE + body) for name, body in SCRIPTS.items()}
        self._async_clients: dict[asyncio.AbstractEventLoop, redis.asyncio.Redis] = {}
        self._async_lock = threading.Lock()

    def _run(self, name: str, code: str, now: float, *args, idle: float | None = None) -> list:
        """Run one script; -> its answer after 'ok'. A refusal from the script is raised as its ClassError."""
        idle = self.settings.idle_timeout_s if idle is None else idle
        answer = self._scripts[name](keys=_keys(code), args=[repr(now), repr(idle), code, *args])
        status = answer[0].decode()
        if status == "ok":
            return answer[1:]
        if status in ("taken", "alive"):        # create: the code is in use; expire: touched since it was listed
            return [status]
        if status == "unknown_class":
            raise refused(status, code=code)
        if status in ("full", "too_many"):
            raise refused(status, n=answer[1])
        if status == "no_drawing":
            raise refused(status, id=args[0])
        raise refused(status)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------------------------------ primitives
    def _create(self, code, secret_digest, stage_json, question_json, capacity, now) -> bool:
        return self._run("create", code, now, secret_digest, stage_json, question_json, capacity) != ["taken"]

    def _row(self, code) -> ClassRow | None:
        h = self.client.hgetall(_keys(code)[0])
        if not h:
            return None
        g = {k.decode(): v.decode("utf-8") for k, v in h.items()}
        return ClassRow(g["secret"], float(g["created"]), float(g["expires_at"]), g["ended"] == "1", int(g["version"]),
                        int(g["activity"]), int(g["capacity"]), g["stage"], int(g["question_id"]), g["revealed"] == "1",
                        g["question"])

    def _versions(self, code, now) -> Versions | None:
        return _versions_of(self.client.hmget(_keys(code)[0], "version", "activity", "ended", "expires_at"), now)

    def _set_stage(self, code, stage_json, question_json, now) -> None:
        self._run("set_stage", code, now, stage_json, question_json)

    def _reveal(self, code, now) -> None:
        self._run("reveal", code, now)

    def _join(self, code, key, nickname, now) -> int:
        return int(self._run("join", code, now, key, nickname or "", repr(now - self.settings.seat_timeout_s))[0])

    def _answer(self, code, key, question_id, value_json, now) -> None:
        s = self.settings
        stored = json.dumps({"value": json.loads(value_json), "at": now, "question_id": question_id})
        self._run("answer", code, now, key, str(question_id), stored, repr(s.answer_rate), s.answer_burst)

    def _my_answer(self, code, key, question_id) -> str | None:
        found = self.client.hget(_keys(code)[6], key)
        if found is None or json.loads(found)["question_id"] != question_id:
            return None
        return json.dumps(json.loads(found)["value"])

    def _answer_rows(self, code, question_id) -> list[tuple]:
        keys = _keys(code)
        with self.client.pipeline(transaction=True) as p:   # one moment: the answers and who gave them
            answers, students = p.hgetall(keys[6]).hgetall(keys[2]).execute()
        rows = []
        for key, stored in answers.items():
            student, a = students.get(key), json.loads(stored)
            if student is not None and a["question_id"] == question_id:
                st = json.loads(student)
                rows.append((st["seat"], st["nickname"] or None, json.dumps(a["value"]), a["at"]))
        return rows

    def _submit_drawing(self, code, key, pixels, lesson, step, now) -> int:
        s = self.settings
        meta = json.dumps({"student": key, "at": now, "lesson": lesson, "step": step})
        return int(self._run("submit_drawing", code, now, key, pixels, meta, repr(s.answer_rate), s.answer_burst,
                             s.max_drawings)[0])

    def _hide_drawing(self, code, drawing_id, hidden, now) -> None:
        self._run("hide_drawing", code, now, drawing_id, "1" if hidden else "0")

    def _drawing_rows(self, code) -> list[Drawing]:
        keys = _keys(code)
        with self.client.pipeline(transaction=True) as p:
            metas, pixels, hidden, students = (p.hgetall(keys[7]).hgetall(keys[8]).smembers(keys[9])
                                               .hgetall(keys[2]).execute())
        found = []
        for drawing_id, meta in metas.items():
            m = json.loads(meta)
            student = json.loads(students.get(m["student"].encode(), b'{"seat": 0, "nickname": ""}'))
            found.append(Drawing(int(drawing_id), student["seat"], student["nickname"] or None, pixels[drawing_id],
                                 drawing_id in hidden, m["at"], m["lesson"], m["step"]))
        return found

    def _heartbeat(self, code, key, following, now, presence_cutoff) -> None:
        self._run("heartbeat", code, now, key, "1" if following else "0", repr(presence_cutoff))

    def _touch(self, code, now) -> None:
        self._run("touch", code, now)

    def _student_rows(self, code, seen_since) -> list[StudentRow]:
        keys = _keys(code)
        with self.client.pipeline(transaction=True) as p:
            seen, following, students = (p.zrangebyscore(keys[3], seen_since, "+inf", withscores=True)
                                         .hgetall(keys[4]).hgetall(keys[2]).execute())
        rows = []
        for key, last_seen in seen:
            st = json.loads(students.get(key, b'{"seat": 0, "nickname": ""}'))
            rows.append(StudentRow(key.decode(), st["seat"], st["nickname"] or None, last_seen,
                                   following.get(key) == b"1"))
        return rows

    def _publish_run(self, code, run_id, meta_json, png, now) -> None:
        self._run("publish_run", code, now, run_id, meta_json, png or b"", self.settings.max_runs)

    def _run_rows(self, code) -> list[tuple[str, bytes | None]]:
        keys = _keys(code)
        with self.client.pipeline(transaction=True) as p:
            order, metas, pngs = p.zrange(keys[13], 0, -1).hgetall(keys[11]).hgetall(keys[12]).execute()
        return [(metas[r].decode("utf-8"), pngs.get(r)) for r in order if r in metas]

    def _end(self, code, now) -> None:
        self._run("end", code, now, repr(self.settings.ended_grace_s))

    def _expire(self, now) -> list[str]:
        gone = []
        for raw in self.client.zrangebyscore(INDEX, "-inf", f"({now!r}"):
            code = raw.decode()
            if self._run("expire", code, now) == []:
                gone.append(code)
        return gone

    # ------------------------------------------------------------------------------------------ pushing changes
    def _async_client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        with self._async_lock:
            client = self._async_clients.get(loop)
            if client is None:
                for old in [lp for lp in self._async_clients if lp.is_closed()]:
                    del self._async_clients[old]
                client = redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=SOCKET_TIMEOUT_S)
                self._async_clients[loop] = client
            return client

    async def watch(self, code) -> AsyncIterator[Versions | None]:
        """The counters now and after every PUBLISH on the class's channel (re-read at least every BACKSTOP_S);
        None when the class is gone. One pub/sub connection per watched class, reconnecting on errors."""
        code = normalise_code(code)
        channel = _keys(code)[0] + ":changes"
        last, first = None, True
        while True:
            pubsub = self._async_client().pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(channel)         # before reading: a change in between is not missed
                while True:
                    found = _versions_of(await self._async_client().hmget(
                        _keys(code)[0], "version", "activity", "ended", "expires_at"), self.clock())
                    if first or found != last:
                        first, last = False, found
                        yield found
                    if found is None:
                        return
                    await pubsub.get_message(timeout=BACKSTOP_S)
                    while await pubsub.get_message(timeout=0):   # a burst of changes: one read covers them all
                        pass
            except (redis.RedisError, OSError):
                await asyncio.sleep(RECONNECT_S)
            finally:
                await pubsub.aclose()


def _versions_of(fields: list, now: float) -> Versions | None:
    version, activity, ended, expires_at = fields
    if version is None or expires_at is None or float(expires_at) < now:
        return None
    return Versions(int(version), int(activity), ended == b"1")
