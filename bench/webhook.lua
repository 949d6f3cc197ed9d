-- POST of the bank webhook, a new payment in every request.
--
-- Script arguments (after `--` on the wrk command line):
--   1. a number mixed into the random seed, different for every wrk invocation
--   2. comma-separated INNs of existing organizations
--   3. comma-separated INNs that no organization has (booked to unidentified receipts)
--   4. the share of requests that use an unknown INN, 0..1

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("id", threads)
end

local known = {}
local unknown = {}
local unknown_share = 0

local function split(csv)
   local items = {}
   for item in string.gmatch(csv or "", "[^,]+") do
      items[#items + 1] = item
   end
   return items
end

function init(args)
   local nonce = tonumber(args[1]) or 0
   math.randomseed(os.time() + id * 7919 + nonce)
   known = split(args[2])
   unknown = split(args[3])
   unknown_share = tonumber(args[4]) or 0
   if #known == 0 then
      unknown_share = 1
   end
end

local function hex(low, high)
   return string.format("%x", math.random(low, high))
end

local function uuid4()
   return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
      if c == "x" then
         return hex(0, 15)
      end
      return hex(8, 11)
   end))
end

local function payer_inn()
   if #unknown > 0 and math.random() < unknown_share then
      return unknown[math.random(#unknown)]
   end
   return known[math.random(#known)]
end

function request()
   local body = string.format(
      "{\"operation_id\":\"%s\",\"amount\":%d.%02d,\"payer_inn\":\"%s\","
         .. "\"document_number\":\"PAY-%d\",\"document_date\":\"%s\"}",
      uuid4(),
      math.random(1, 99999),
      math.random(0, 99),
      payer_inn(),
      math.random(1, 999999),
      os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(0, 30 * 86400))
   )
   return wrk.format(nil, nil, nil, body)
end
