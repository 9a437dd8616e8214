// The report page's behaviour: paged galleries, the heat-map switch, re-cutting the merge tree at another K, and cluster names (edited in the page, downloaded as
// names.json, and saved through the HTTP API when the API serves the page). No framework, no network unless served.
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const names = Object.assign({}, data.names);
  const pageOf = new Map();

  // ---- galleries -------------------------------------------------------------------------------------------------
  function caption(image) {
    const figcaption = document.createElement('figcaption');
    // The label on a line of its own: a long file name used to push it out of the tile's width.
    const file = document.createElement('span');
    file.className = 'file';
    file.textContent = image.id.split('/').pop();
    figcaption.append(file);
    if (image.label !== undefined) {
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = image.label;
      figcaption.append(label);
    }
    figcaption.title = image.label !== undefined ? `${image.id} (${image.label})` : image.id;
    return figcaption;
  }

  function picture(src, kind, alt) {
    const img = document.createElement('img');
    img.className = kind;
    img.loading = 'lazy';
    img.decoding = 'async';
    img.alt = alt;
    img.src = src;
    return img;
  }

  function tile(imageIndex) {
    return tileOf(data.images[imageIndex], String(imageIndex));
  }

  function tileOf(image, key) {
    const figure = document.createElement('figure');
    figure.className = 'tile';
    figure.dataset.image = key;
    const details = [image.id];
    if (image.label !== undefined) details.push('label: ' + image.label);
    if (image.distance !== undefined) details.push('distance to the centroid: ' + image.distance);
    if (image.maxAlpha !== undefined) details.push('largest patch weight: ' + image.maxAlpha.toPrecision(3));
    if (image.score !== undefined) details.push('anomaly score: ' + image.score.toPrecision(4));
    figure.title = details.join('\n');
    const frame = document.createElement('div');
    frame.className = 'frame';
    if (image.thumb === undefined) {
      const missing = document.createElement('div');
      missing.className = 'missing';
      missing.textContent = image.problem || 'image not available';
      frame.append(missing);
    } else {
      if (image.heat !== undefined) {
        frame.append(picture(image.heat, 'heat', 'alpha heat map of ' + image.id));
      } else {
        figure.classList.add('no-heat');
      }
      frame.append(picture(image.thumb, 'plain', image.id));
    }
    if (image.medoid) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'medoid';
      frame.append(badge);
    }
    figure.append(frame, caption(image));
    figure.addEventListener('click', () => figure.classList.toggle('flipped'));
    return figure;
  }

  const orderSwitch = document.getElementById('gallery-order');

  // ---- pages past the embedded images (served page only) ---------------------------------------------------------
  // The page embeds each cluster's most typical images; a served page fetches the rest, page by page, from the API's
  // cluster pages (the same order: nearest to the centroid first) and the images' thumbnails from GET /jobs/{id}/thumbnail.
  function apiUrl(path) {
    return `${data.api.base.replace(/\/+$/, '')}/jobs/${encodeURIComponent(data.api.jobId)}${path}`;
  }

  function remoteImage(entry, cluster) {
    const image = { id: entry.id, cluster };
    if (entry.label !== null && entry.label !== undefined) image.label = entry.label;
    if (typeof entry.distanceToCentre === 'number') image.distance = Math.round(entry.distanceToCentre * 1e4) / 1e4;
    if (typeof entry.anomalyScore === 'number') image.score = entry.anomalyScore;
    image.thumb = apiUrl(`/thumbnail?image=${encodeURIComponent(entry.id)}`);
    if (data.api.heat) image.heat = apiUrl(`/thumbnail?image=${encodeURIComponent(entry.id)}&heat=true`);
    return image;
  }

  // Rows from..from+count-1 of the cluster in the API's order, less those the page embeds. At the boundary it asks one row
  // early: the embedded gallery puts the medoid first, so the API's last embedded row is either among the embedded images
  // (dropped here) or the one the medoid displaced.
  async function fetchRemoteRows(cluster, from, count) {
    const members = data.clusters[cluster].members;
    const shown = new Set(members.map(i => data.images[i].id));
    const early = from === members.length ? 1 : 0;
    const response = await fetch(apiUrl(`/clusters/${cluster}/images?offset=${from - early}&limit=${count + early}`));
    if (!response.ok) throw new Error(`${response.status} ${(await response.text()).slice(0, 200)}`);
    const body = await response.json();
    return body.images.filter(entry => !shown.has(entry.id)).map(entry => remoteImage(entry, cluster));
  }

  function showPage(cluster, page) {
    const byScore = orderSwitch && orderSwitch.value === 'score' && data.clusters[cluster].byScore;
    const members = byScore || data.clusters[cluster].members;
    const remote = !byScore && data.api !== undefined && data.clusters[cluster].size > members.length;
    const total = remote ? data.clusters[cluster].size : members.length;
    const pages = Math.max(1, Math.ceil(total / data.pageSize));
    page = Math.min(Math.max(0, page), pages - 1);
    pageOf.set(cluster, page);
    const gallery = document.querySelector(`.gallery[data-cluster="${cluster}"]`);
    gallery.dataset.page = String(page);
    const pager = document.querySelector(`.pager[data-cluster="${cluster}"]`);
    pager.hidden = pages === 1;
    pager.querySelector('.page-info').textContent = `page ${page + 1} of ${pages}`;
    pager.querySelector('.prev').disabled = page === 0;
    pager.querySelector('.next').disabled = page === pages - 1;
    const start = page * data.pageSize;
    const end = start + data.pageSize;
    const embedded = members.slice(start, end).map(tile);
    if (!remote || end <= members.length) {
      gallery.classList.remove('loading');
      gallery.replaceChildren(...embedded);
      return;
    }
    const from = Math.max(start, members.length);
    gallery.classList.add('loading');
    gallery.replaceChildren(...embedded, Object.assign(document.createElement('p'), { className: 'note', textContent: 'loading…' }));
    fetchRemoteRows(cluster, from, end - from).then(images => {
      if (pageOf.get(cluster) !== page) return;
      gallery.classList.remove('loading');
      gallery.replaceChildren(...embedded, ...images.map(image => tileOf(image, image.id)));
    }, error => {
      if (pageOf.get(cluster) !== page) return;
      gallery.classList.remove('loading');
      gallery.replaceChildren(...embedded, Object.assign(document.createElement('p'), { className: 'note failed', textContent: `this page could not be loaded: ${error.message}` }));
    });
  }

  for (const cluster of data.clusters) {
    const pager = document.querySelector(`.pager[data-cluster="${cluster.index}"]`);
    pager.querySelector('.prev').addEventListener('click', () => showPage(cluster.index, pageOf.get(cluster.index) - 1));
    pager.querySelector('.next').addEventListener('click', () => showPage(cluster.index, pageOf.get(cluster.index) + 1));
    showPage(cluster.index, 0);
  }

  if (orderSwitch) {
    orderSwitch.addEventListener('change', () => { for (const cluster of data.clusters) showPage(cluster.index, 0); });
  }

  const heatSwitch = document.getElementById('show-heat');
  if (heatSwitch) {
    heatSwitch.addEventListener('change', () => document.body.classList.toggle('show-plain', !heatSwitch.checked));
  }

  // ---- cluster names -----------------------------------------------------------------------------------------------
  function namesJson() {
    const sorted = {};
    for (const key of Object.keys(names).map(Number).sort((a, b) => a - b)) sorted[key] = names[key];
    return JSON.stringify(sorted, null, 2);
  }

  function showName(cluster, name) {
    for (const element of document.querySelectorAll(`[data-name-of="${cluster}"]`)) element.textContent = name;
  }

  // Saves one name on the job (PUT {api}/jobs/{job}/clusters/{index}/name, body {"name": "..."}; an empty name removes it).
  async function saveNameToApi(cluster, name) {
    const base = data.api.base.replace(/\/+$/, '');
    const url = `${base}/jobs/${encodeURIComponent(data.api.jobId)}/clusters/${cluster}/name`;
    const response = await fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (!response.ok) throw new Error(`${response.status} ${(await response.text()).slice(0, 200)}`);
  }

  async function commitName(cluster, raw) {
    const name = raw.trim();
    if (name) names[cluster] = name; else delete names[cluster];
    showName(cluster, name);
    document.getElementById('names-json').value = namesJson();
    if (!data.api) return;
    const status = document.querySelector(`[data-save-of="${cluster}"]`);
    status.classList.remove('failed');
    status.textContent = 'saving…';
    try {
      await saveNameToApi(cluster, name);
      status.textContent = 'saved';
    } catch (error) {
      status.classList.add('failed');
      status.textContent = 'not saved: ' + error.message;
    }
  }

  for (const input of document.querySelectorAll('.name-input')) {
    const cluster = Number(input.dataset.cluster);
    input.addEventListener('input', () => showName(cluster, input.value.trim()));
    input.addEventListener('change', () => commitName(cluster, input.value));
  }

  document.getElementById('download-names').addEventListener('click', () => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([namesJson() + '\n'], { type: 'application/json' }));
    link.download = 'names.json';
    document.body.append(link);
    link.click();
    link.remove();
  });

  document.getElementById('copy-names').addEventListener('click', async () => {
    const text = document.getElementById('names-json');
    text.value = namesJson();
    try {
      await navigator.clipboard.writeText(text.value);
      document.getElementById('names-status').textContent = 'names copied';
    } catch {
      // file:// pages may not reach the clipboard: leave the JSON selected for Ctrl+C.
      text.focus();
      text.select();
      document.getElementById('names-status').textContent = 'press Ctrl+C to copy the selected JSON';
    }
  });

  // ---- re-cut the merge tree at another K --------------------------------------------------------------------------
  // Per image when the page lists every image (results up to ReportOptions.FullImageListUpTo: data.linkage); past that,
  // the top of the tree (data.treeTop: a linkage of its own whose leaves are the subtrees it joins, numbered in order of
  // their first image, each with its images and label counts), into at most as many clusters as it has leaves.
  const recutTree = data.linkage ? { linkage: data.linkage, leafOfImage: data.leafOfImage }
    : data.treeTop ? { linkage: data.treeTop.linkage, branches: data.treeTop.branches } : null;
  if (recutTree) {
    // The same partition as SciPy's fcluster(Z, K, 'maxclust') and MergeTree.CutToClusters: the lowest merge height whose
    // cut leaves at most K clusters, labels numbered in order of each cluster's first image. O(N log N) per cut.
    // The tree's leaves are the images, or for a two-stage tree the micro-clusters: data.leafOfImage then gives each image's
    // leaf, and pointCount counts leaves, not images. A cut of the tree top at K up to its leaves is the whole tree's cut
    // (the heights are monotone, so no cut there splits a branch).
    const linkage = recutTree.linkage;
    const pointCount = linkage.length + 1;
    const leafOfImage = recutTree.leafOfImage;
    const branches = recutTree.branches;
    const subtreeMax = new Float64Array(linkage.length);
    linkage.forEach(([left, right, height], r) => {
      let max = height;
      if (left >= pointCount) max = Math.max(max, subtreeMax[left - pointCount]);
      if (right >= pointCount) max = Math.max(max, subtreeMax[right - pointCount]);
      subtreeMax[r] = max;
    });

    function clustersAtOrBelow(cut) {
      let clusters = pointCount;
      for (const max of subtreeMax) if (max <= cut) clusters--;
      return clusters;
    }

    function partition(cut) {
      const representative = new Int32Array(2 * pointCount - 1);
      const parent = new Int32Array(pointCount);
      for (let i = 0; i < pointCount; i++) { representative[i] = i; parent[i] = i; }
      const find = (node) => {
        let root = node;
        while (parent[root] !== root) root = parent[root];
        while (node !== root) { const next = parent[node]; parent[node] = root; node = next; }
        return root;
      };
      linkage.forEach(([left, right], r) => {
        const a = representative[left];
        const b = representative[right];
        if (subtreeMax[r] <= cut) {
          const rootA = find(a);
          const rootB = find(b);
          parent[Math.max(rootA, rootB)] = Math.min(rootA, rootB);
        }
        representative[pointCount + r] = a;
      });
      const labelOfRoot = new Int32Array(pointCount).fill(-1);
      const labels = new Int32Array(pointCount);
      let next = 0;
      for (let i = 0; i < pointCount; i++) {
        const root = find(i);
        if (labelOfRoot[root] < 0) labelOfRoot[root] = next++;
        labels[i] = labelOfRoot[root];
      }
      return labels;
    }

    function cutLeaves(k) {
      if (k >= pointCount) return partition(-Infinity);
      let lower = -1;
      let upper = pointCount - 1;
      while (upper - lower > 1) {
        const middle = (lower + upper) >> 1;
        if (clustersAtOrBelow(subtreeMax[middle]) > k) lower = middle; else upper = middle;
      }
      return partition(subtreeMax[upper]);
    }

    // The cluster of each image. For a two-stage tree each image takes its leaf's cluster, renumbered in order of each
    // cluster's first image, as ClusterTree.ToPoints does in C#, so the page's cut matches the result's.
    function cutToClusters(k) {
      const leafLabels = cutLeaves(k);
      if (!leafOfImage) return leafLabels;
      const renumber = new Int32Array(pointCount).fill(-1);
      const labels = new Int32Array(leafOfImage.length);
      let next = 0;
      leafOfImage.forEach((leaf, i) => {
        const label = leafLabels[leaf];
        if (renumber[label] < 0) renumber[label] = next++;
        labels[i] = renumber[label];
      });
      return labels;
    }

    let recut = null;
    function showCut(k) {
      k = Math.min(Math.max(1, Math.round(k)), pointCount);
      const labels = cutToClusters(k);
      const count = labels.reduce((max, label) => Math.max(max, label + 1), 0);
      const sizes = new Array(count).fill(0);
      const labelCounts = Array.from({ length: count }, () => new Map());
      const add = (cluster, label, n) => labelCounts[cluster].set(label, (labelCounts[cluster].get(label) || 0) + n);
      if (branches) {
        labels.forEach((cluster, b) => {
          sizes[cluster] += branches[b].size;
          for (const [label, n] of branches[b].labels) add(cluster, label, n);
        });
      } else {
        labels.forEach((cluster, i) => {
          sizes[cluster]++;
          const label = data.images[i].label;
          if (label !== undefined) add(cluster, label, 1);
        });
      }
      const rows = sizes.map((size, cluster) => {
        const row = document.createElement('tr');
        row.dataset.cluster = String(cluster);
        const counts = [...labelCounts[cluster]].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
        for (const text of [String(cluster), String(size), counts.map(([label, n]) => `${label} ${n}`).join(', ') || '-']) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      });
      document.querySelector('#recut-table tbody').replaceChildren(...rows);
      for (const point of document.querySelectorAll('.curve-point')) point.classList.toggle('selected', Number(point.dataset.k) === k);
      document.getElementById('recut-k').value = String(k);
      document.getElementById('recut-status').textContent =
        count === k ? `${count} clusters` : `${count} clusters (ties in the merge heights leave fewer than ${k})`;
      recut = labels;
    }

    function csvField(text) {
      return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    }

    document.getElementById('recut-k').addEventListener('change', (event) => showCut(Number(event.target.value)));
    for (const point of document.querySelectorAll('.curve-point')) point.addEventListener('click', () => showCut(Number(point.dataset.k)));
    // No per-image file of a tree-top cut: the page does not hold every image.
    document.getElementById('recut-download')?.addEventListener('click', () => {
      const labelled = data.images.length > 0 && data.images.every((image) => image.label !== undefined);
      const lines = [labelled ? 'image,cluster,label' : 'image,cluster'];
      data.images.forEach((image, i) => lines.push([csvField(image.id), String(recut[i])].concat(labelled ? [csvField(image.label)] : []).join(',')));
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }));
      link.download = `clusters-k${document.getElementById('recut-k').value}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
    });
    showCut(Number(document.getElementById('recut-k').value));
  }

  document.body.dataset.ready = 'true';
})();
