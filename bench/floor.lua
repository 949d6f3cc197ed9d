-- GET of the framework-floor view; only reports the figures.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")
