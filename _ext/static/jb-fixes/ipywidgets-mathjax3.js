/* ipywidgets 8 typesets widget descriptions/labels with MathJax 2's API,
 *   if (window.MathJax !== undefined) MathJax.Hub.Queue(['Typeset', MathJax.Hub, el])
 * (@jupyter-widgets/controls utils.typeset).  MathJax 3 has no Hub, so every widget
 * with a description throws "Cannot read properties of undefined (reading 'Queue')".
 * Give MathJax 3 a minimal Hub.Queue that forwards 'Typeset' to typesetPromise.
 * Must load before @jupyter-widgets/html-manager's embed.js (it renders on window load,
 * after MathJax's deferred script has replaced window.MathJax). */
(function () {
  function install() {
    var MJ = window.MathJax;
    if (!MJ || !MJ.version || MJ.Hub) return;  // absent, still the config object, or MathJax 2
    MJ.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (!Array.isArray(job) || job[0] !== 'Typeset' || !job[2]) return;
          var el = job[2];
          ((MJ.startup && MJ.startup.promise) || Promise.resolve())
            .then(function () { return MJ.typesetPromise([el]); })
            .catch(function (err) { console.warn('MathJax typeset of widget failed:', err); });
        });
      }
    };
  }
  document.addEventListener('DOMContentLoaded', install);
  window.addEventListener('load', install);
})();
