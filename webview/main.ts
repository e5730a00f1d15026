// The link-path webview app (browser bundle). Until a diagnosis result is posted to it,
// it says so rather than showing an empty canvas.
const root = document.getElementById('root') ?? document.body;
root.textContent = 'No diagnosis to show yet.';
