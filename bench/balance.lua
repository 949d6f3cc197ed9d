-- GET of an organization's balance with an API key.
--
-- Script arguments (after `--`): the API key, then comma-separated INNs to read (at random).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")

local inns = {}
local key = ""

function init(args)
   key = args[1]
   for inn in string.gmatch(args[2] or "", "[^,]+") do
      inns[#inns + 1] = inn
   end
   math.randomseed(os.time() + (id or 0))
end

function request()
   local inn = inns[math.random(#inns)]
   return wrk.format("GET", "/api/v1/organizations/" .. inn .. "/balance/",
      { ["Authorization"] = "Bearer " .. key })
end
