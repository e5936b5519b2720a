-- Counts responses by status, so bench/run.py can check every request took the path it meant.
-- Usage: wrk ... -s bench/count.lua <url> -- [METHOD]
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   if args[1] then
      wrk.method = args[1]
   end
   statuses = {}
   first_bad = nil
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 400 and first_bad == nil then
      first_bad = status .. " " .. string.sub(body or "", 1, 1500)
   end
end

function done(summary, latency, requests)
   local total = {}
   local bad = nil
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + count
      end
      bad = bad or thread:get("first_bad")
   end
   local parts = {}
   for status, count in pairs(total) do
      table.insert(parts, status .. "=" .. count)
   end
   io.write("BENCH_STATUSES " .. table.concat(parts, " ") .. "\n")
   if bad then
      io.write("BENCH_FIRST_BAD " .. string.gsub(bad, "\n", " ") .. "\n")
   end
end
