-- POST of pre-signed bank webhooks, each sent once: bench/payloads.py writes one request a
-- line ("<X-Bank-Timestamp>\t<X-Bank-Signature>\t<body>"), signed just before this run.
--
-- Script arguments (after `--` on the wrk command line): the path of that file and wrk's
-- number of threads n. Thread k sends lines k, k + n, k + 2n, ...; it would start over only
-- if it ran out (the benchmark writes several times what can be sent, and the books check
-- would report the repeats).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")

local count = 0

function setup(thread)
   count = count + 1
   thread:set("id", count)
end

local lines = {}
local next_line = 1

function init(args)
   local total = tonumber(args[2])
   local file = assert(io.open(args[1], "r"))
   local n = 0
   for line in file:lines() do
      n = n + 1
      if (n - id) % total == 0 then
         lines[#lines + 1] = line
      end
   end
   file:close()
end

function request()
   local line = lines[next_line]
   next_line = next_line % #lines + 1
   local timestamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
   local headers = {
      ["Content-Type"] = "application/json",
      ["X-Bank-Timestamp"] = timestamp,
      ["X-Bank-Signature"] = signature,
   }
   return wrk.format("POST", nil, headers, body)
end
