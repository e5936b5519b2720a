-- Complete complaint submissions: each request is a new complaint with its own submission_key.
-- Usage: wrk ... -s bench/submit.lua <url> -- <sessions file> <run nonce> <phone series digit>
-- The sessions file (written by bench/run.py) has one line per wrk thread:
--   <Cookie header>\t<urlencoded body up to "phone=">\t<"&submission_key=">
-- A session cookie and its CSRF token stay valid for many posts, so each thread reuses one;
-- the submission_key must be new every time, or the app takes its cheaper "retried" path,
-- and so is the phone number (138 <series> <thread> <counter>): each post is another tourist.
local threads = {}
local counter = 0

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   local sessions, nonce, series = args[1], args[2], args[3]
   local lines = {}
   for line in io.lines(sessions) do
      table.insert(lines, line)
   end
   local cookie, before, middle = string.match(lines[(id - 1) % #lines + 1], "^([^\t]*)\t([^\t]*)\t([^\t]*)$")
   key_prefix = nonce .. "-t" .. id .. "-"
   phone_prefix = "138" .. series .. (id % 10)
   body_before, body_middle = before, middle
   headers = {
      ["Cookie"] = cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
   }
   statuses = {}
   first_bad = nil
end

function request()
   counter = counter + 1
   local key = key_prefix .. string.format("%09d", counter)
   local phone = phone_prefix .. string.format("%06d", counter % 1000000)
   return wrk.format("POST", nil, headers, body_before .. phone .. body_middle .. key)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= 303 and first_bad == nil then
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
