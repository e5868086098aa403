-- wrk script: the same chat request for every target; DRYDOCK_KEY in the environment for the gateway.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("DRYDOCK_KEY")
if key then wrk.headers["Authorization"] = "Bearer " .. key end
wrk.body = '{"model":"m","max_tokens":200,"messages":[{"role":"system","content":"You are a support assistant."},{"role":"user","content":"When does my order 1182 ship, and how will I know?"}]}'
