#!/usr/bin/env bash
# Set everything up, index the shipped corpus and run the service and the UI on it.
# Usage: bash scripts/run.sh        (QA_PORT, QA_UI_PORT, QA_INDEX_DIR, QA_EMBED_MODEL are honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
export QA_INDEX_DIR=${QA_INDEX_DIR:-index}
API_PORT=${QA_PORT:-8000}
UI_PORT=${QA_UI_PORT:-8501}
.venv/bin/qa ingest corpus
.venv/bin/qa search "如皋到2025年要培育多少家高新技术企业?" --k 3
.venv/bin/qa serve --host 127.0.0.1 --port "$API_PORT" &
API_PID=$!
trap 'kill $API_PID $UI_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  if .venv/bin/python -c "import httpx,sys; httpx.get('http://127.0.0.1:$API_PORT/health').raise_for_status()" 2>/dev/null; then
    break
  fi
  sleep 1
done
export QA_API_URL="http://127.0.0.1:$API_PORT"
.venv/bin/streamlit run ui/app.py --server.headless true --server.address 127.0.0.1 --server.port "$UI_PORT" \
  --browser.gatherUsageStats false &
UI_PID=$!
sleep 3
echo
echo "qa service:  http://127.0.0.1:$API_PORT   (OpenAPI docs at http://127.0.0.1:$API_PORT/docs)"
echo "qa UI:       http://127.0.0.1:$UI_PORT"
echo "Press Ctrl+C to stop."
wait
