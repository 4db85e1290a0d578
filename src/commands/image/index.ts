import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { runImageCatalog, runImageInfo, runImageList } from './list.js';
import { DEFAULT_IMAGE_POOL, runImagePull, type ImagePullOptions } from './pull.js';
import { runImageRemove } from './remove.js';

export function imageCommand(app: App): Command {
  const image = new Command('image')
    .description('cloud images: pull by catalog name or URL, verified and published read-only into a pool')
    .addHelpText(
      'after',
      examples('kvmctl image catalog', 'kvmctl image pull debian-12', 'kvmctl image list', 'kvmctl vm create web1 --image debian-12 --wait ip') +
        '\nThe catalog is built in, and extended or overridden by images.json in the config\ndirectory ($KVMCTL_CONFIG_DIR, else /etc/kvmctl for root, else ~/.config/kvmctl).\n',
    );

  image.addCommand(
    new Command('pull')
      .description('download an image (resumable), verify its sha256/sha512, publish it read-only into a pool')
      .argument('<name|url>', 'a catalog name (kvmctl image catalog) or an http(s) URL')
      .option('--pool <pool>', `the directory pool to put it in (default: ${DEFAULT_IMAGE_POOL})`)
      .option('--checksum <algo:hex>', 'the expected digest: sha256:HEX or sha512:HEX')
      .option('--sums <url>', 'a SUMS file (SHA256SUMS, SHA512SUMS, CHECKSUM) that lists the image')
      .option('--name <name>', 'volume name (default: the catalog name with the URL\'s extension, or the URL\'s file name)')
      .addHelpText(
        'after',
        examples(
          'kvmctl image pull debian-12',
          'kvmctl image pull ubuntu-24.04 --pool images',
          'kvmctl image pull https://example.org/os.qcow2 --checksum sha256:9f86d0…',
          'kvmctl image pull https://example.org/os.qcow2 --sums https://example.org/SHA256SUMS',
        ) +
          '\nAn interrupted pull keeps its partial file and resumes with a range request.\nA digest mismatch publishes nothing and removes the download (exit 5).\nProxies: HTTPS_PROXY, HTTP_PROXY, NO_PROXY. TLS is always verified; a private CA\ngoes in NODE_EXTRA_CA_CERTS.\n',
      )
      .action(app.action(async (ctx, source: string, opts: ImagePullOptions) => runImagePull(ctx, source, opts))),
  );

  image.addCommand(
    new Command('catalog')
      .description('list the image names pull accepts, with their URLs and how each is verified')
      .addHelpText('after', examples('kvmctl image catalog', 'kvmctl image catalog -o json'))
      .action(app.action(async (ctx) => runImageCatalog(ctx))),
  );

  image.addCommand(
    new Command('list')
      .description('list pulled images: source URL, digest, size, format, when pulled, and the VMs using each')
      .addHelpText('after', examples('kvmctl image list', 'kvmctl image list -o json'))
      .action(app.action(async (ctx) => runImageList(ctx))),
  );

  image.addCommand(
    new Command('info')
      .description('show one pulled image')
      .argument('<image>', 'POOL/NAME, NAME, or the catalog name it was pulled by')
      .addHelpText('after', examples('kvmctl image info debian-12', 'kvmctl image info default/debian-12.qcow2 -o json'))
      .action(app.action(async (ctx, text: string) => runImageInfo(ctx, text))),
  );

  image.addCommand(
    new Command('remove')
      .description('remove a pulled image; refused (exit 5) while a VM or an overlay uses it')
      .argument('<image>', 'POOL/NAME, NAME, or the catalog name it was pulled by')
      .addHelpText('after', examples('kvmctl image remove debian-12'))
      .action(app.action(async (ctx, text: string) => runImageRemove(ctx, text))),
  );
  return image;
}
