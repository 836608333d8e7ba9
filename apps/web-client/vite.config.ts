import { defaultClientConditions, defineConfig } from 'vite';

// The web service answers /api and /hls; in `vite` dev mode the page proxies them to it.
const service = 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  // `source`: workspace packages (packages/protocol) resolve to their TypeScript sources.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  // No React plugin: esbuild's automatic JSX runtime is all the page needs (no fast refresh).
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      // Libraries in their own files: they change less often than the page, so browsers keep them cached.
      output: { manualChunks: { hls: ['hls.js'], react: ['react', 'react-dom', 'react-dom/client'] } },
    },
    // hls.js alone is ~600 kB minified (~190 kB gzipped), in its own cached file.
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      '/api': { target: service, changeOrigin: true },
      '/hls': { target: service, changeOrigin: true },
    },
  },
});
