-- wrk script: POST /v1/transfers with a unique id per request, between accounts B0..B{n-1}
-- opened and funded beforehand (see bench/http.sh). Each wrk thread numbers its own ids.
local counter = 0
local thread_id = 0
local accounts = tonumber(os.getenv("ACCOUNTS") or "1000")
local run = os.getenv("RUN") or "r"
local key = os.getenv("PAYCORE_KEY")

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local n = counter * 7919 + thread_id
  local debit = n % accounts
  local credit = (debit + 1 + (n % (accounts - 1))) % accounts
  local body = string.format(
    '{"id":"w%s-%d-%d","debit_account":"B%d","credit_account":"B%d","amount":%d,"currency":"CNY"}',
    run, thread_id, counter, debit, credit, 1 + n % 1000)
  return wrk.format(nil, "/v1/transfers", nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
