
(function(){
  'use strict';
  var vsel = document.getElementById('f-village');
  var NONE = (vsel && vsel.dataset.none) || '';
  var sels = Array.prototype.slice.call(document.querySelectorAll('#filters select'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('#findings-table tbody tr'));
  var shown = document.getElementById('shown-count');
  function readHash(){
    var h = (location.hash || '').replace(/^#/, '') || (location.search || '').replace(/^\?/, '');
    var want = {};
    h.split('&').forEach(function(kv){
      if (!kv) return;
      var i = kv.indexOf('=');
      var k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? '' : kv.slice(i + 1);
      try { k = decodeURIComponent(k); v = decodeURIComponent(v.replace(/\+/g, ' ')); } catch (e) { return; }
      want[k] = v;
    });
    sels.forEach(function(s){
      var v = want[s.dataset.key] || '';
      var ok = Array.prototype.some.call(s.options, function(o){ return o.value === v; });
      s.value = ok ? v : '';
    });
  }
  function apply(){
    var f = {};
    sels.forEach(function(s){ f[s.dataset.key] = s.value; s.setAttribute('data-value', s.value); });
    var n = 0;
    rows.forEach(function(tr){
      var v = tr.dataset.village || NONE;
      var ok = (!f.village || f.village === v) &&
               (!f.severity || f.severity === tr.dataset.severity) &&
               (!f.code || f.code === tr.dataset.code) &&
               (!f.since || f.since === tr.dataset.sinceLast);
      tr.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = String(n);
    shown.setAttribute('data-shown', String(n));
  }
  function writeHash(){
    var parts = [];
    sels.forEach(function(s){ if (s.value) parts.push(s.dataset.key + '=' + encodeURIComponent(s.value)); });
    var url = parts.length ? '#' + parts.join('&') : location.pathname + location.search;
    try { history.replaceState(null, '', url); } catch (e) {}
  }
  sels.forEach(function(s){ s.addEventListener('change', function(){ apply(); writeHash(); }); });
  var reset = document.getElementById('f-reset');
  if (reset) reset.addEventListener('click', function(){ sels.forEach(function(s){ s.value = ''; }); apply(); writeHash(); });
  window.addEventListener('hashchange', function(){
    readHash(); apply();
    var t = document.getElementById('findings');
    if (t && t.scrollIntoView) t.scrollIntoView();
  });
  readHash();
  apply();
})();
