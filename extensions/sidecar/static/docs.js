// /docs: one row per RPC of /openapi.json.
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const rows = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tr = document.createElement('tr');
      for (const text of [op.operationId, method.toUpperCase() + ' ' + path,
                          (op.description || '').replace('Who may call: ', ''), op.summary]) {
        const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
      }
      rows.push(tr);
    }
  }
  document.getElementById('rpcs').append(...rows);
});
