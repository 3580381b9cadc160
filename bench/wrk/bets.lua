-- wrk script of bench/bets.py: POST betting/bets with prepared slips, each with its player's token
-- and a unique Idempotency-Key, counting 201s and everything else.
--
--   wrk -t1 -c32 -d8s -s bench/wrk/bets.lua http://127.0.0.1:8080/api/v1/betting/bets -- requests.tsv run1
--
-- requests.tsv: one request per line, "<access token>\t<JSON body>". The run id keeps keys of
-- several runs on one database apart. done() prints one JSON line that bench/bets.py reads.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   tokens, bodies = {}, {}
   for line in io.lines(args[1]) do
      local tab = line:find("\t", 1, true)
      table.insert(tokens, "Bearer " .. line:sub(1, tab - 1))
      table.insert(bodies, line:sub(tab + 1))
   end
   run = args[2]
   n, ok, other, first_other = 0, 0, 0, ""
   -- Threads start at different places in the list, so they do not send the same slips in step.
   offset = (id * 7919) % #bodies
end

function request()
   n = n + 1
   local i = (offset + n) % #bodies + 1
   return wrk.format("POST", nil, {
      ["Authorization"] = tokens[i],
      ["Idempotency-Key"] = run .. "-" .. id .. "-" .. n,
      ["Content-Type"] = "application/json",
   }, bodies[i])
end

function response(status, headers, body)
   if status == 201 then
      ok = ok + 1
   else
      other = other + 1
      if first_other == "" then first_other = (status .. " " .. body:sub(1, 200)):gsub('[%c"\\]', "?") end
   end
end

function done(summary, latency, requests)
   local ok_total, other_total, sample = 0, 0, ""
   for _, thread in ipairs(threads) do
      ok_total = ok_total + thread:get("ok")
      other_total = other_total + thread:get("other")
      if sample == "" then sample = thread:get("first_other") end
   end
   io.write(string.format(
      '{"requests": %d, "ok": %d, "other": %d, "duration_us": %d, "socket_errors": %d, ' ..
      '"p50_us": %d, "p99_us": %d, "max_us": %d, "first_other": "%s"}\n',
      summary.requests, ok_total, other_total, summary.duration,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50), latency:percentile(99), latency.max, sample))
end
