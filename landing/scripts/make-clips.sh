#!/usr/bin/env bash
# Renders the sample clips shown in the product page gallery (public/clips/).
# They are honest placeholders: short synthetic motion graphics with synthetic
# sound, each stamped "vgen sample". Replace them with real clips by dropping
# files into public/clips/ (or a CDN) and editing src/data/clips.ts.
#
# Needs ffmpeg (Debian: apt-get install -y ffmpeg) with libx264, aac, libwebp
# and drawtext (libfreetype). Output: <slug>.mp4 (H.264/AAC, 640x360, 4 s,
# faststart), <slug>.webp poster, <slug>.vtt captions.
set -euo pipefail
cd "$(dirname "$0")/../public/clips"

FONT=${FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}
[ -f "$FONT" ] || FONT=$(fc-match -f '%{file}' 'sans:bold')
D=4          # seconds
S=640x360
R=25

# Every clip gets the same corner stamp so nobody mistakes it for real output.
STAMP="drawtext=fontfile=$FONT:text='vgen sample':fontsize=16:fontcolor=white@0.75:x=w-tw-16:y=h-th-14:box=1:boxcolor=black@0.35:boxborderw=6"

title() { # text size y-expr extra
  echo "drawtext=fontfile=$FONT:text='$1':fontsize=$2:fontcolor=white:x=(w-tw)/2:y=$3${4:+:$4}"
}

render() { # slug "video filtergraph ending in [v]" "audio expression" caption
  local slug=$1 graph=$2 audio=$3 caption=$4
  ffmpeg -v error -y \
    -f lavfi -i "aevalsrc=exprs='$audio':s=44100:d=$D" \
    -filter_complex "$graph;[v]$STAMP,format=yuv420p[out]" \
    -map '[out]' -map 0:a -t $D -r $R \
    -c:v libx264 -preset slow -profile:v main -crf 27 -maxrate 520k -bufsize 1040k \
    -c:a aac -b:a 64k -ac 2 -movflags +faststart "$slug.mp4"
  ffmpeg -v error -y -ss 2 -i "$slug.mp4" -frames:v 1 -c:v libwebp -quality 62 "$slug.webp"
  printf 'WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n%s\n' "$caption" > "$slug.vtt"
  printf '%-22s %6s B video  %6s B poster\n' "$slug" "$(stat -c %s "$slug.mp4")" "$(stat -c %s "$slug.webp")"
}

CHORD='0.16*sin(2*PI*220*t)+0.12*sin(2*PI*277.2*t)+0.12*sin(2*PI*329.6*t)'
PULSE="($CHORD)*(0.55+0.45*sin(2*PI*2*t))"

# Music
render neon-equalizer \
  "aevalsrc=exprs='$PULSE+0.08*sin(2*PI*880*t)*gt(sin(2*PI*4*t),0)':s=44100:d=$D,showcqt=s=${S}:r=$R:axis=0:sono_h=0:bar_g=3:bar_v=14:basefreq=60:endfreq=2000:cscheme=0.9|0.2|0.9|0.4|0.3|1,format=rgba,colorkey=black:0.08[bars];
   gradients=s=$S:c0=0x120a2e:c1=0x2b0b4f:x0=0:y0=0:x1=640:y1=360:speed=0.02:d=$D:r=$R[bg];
   [bg][bars]overlay=shortest=1,$(title 'NEON NIGHTS' 44 36)[v]" \
  "$PULSE+0.08*sin(2*PI*880*t)*gt(sin(2*PI*4*t),0)" '[Pulsing synth chords]'

render late-night-waveform \
  "aevalsrc=exprs='0.3*sin(2*PI*110*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*440*t)*exp(-6*mod(t,0.5))':s=44100:d=$D,showwaves=s=$S:mode=cline:rate=$R:colors=0x38bdf8|0xa78bfa:scale=sqrt[w];
   gradients=s=$S:c0=0x020617:c1=0x1e1b4b:speed=0.015:d=$D:r=$R[bg];
   [bg][w]overlay=shortest=1,$(title 'after hours' 30 40 'fontcolor=0xc4b5fd')[v]" \
  "0.3*sin(2*PI*110*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*440*t)*exp(-6*mod(t,0.5))" '[Slow bass line with plucked notes]'

# Marketing
render summer-drop-teaser \
  "gradients=s=$S:c0=0xff7a18:c1=0xff3d77:c2=0xffd166:nb_colors=3:speed=0.04:d=$D:r=$R,
   drawbox=x=0:y=ih*0.62:w=iw*min(1\,t/1.2):h=6:color=white@0.9:t=fill,
   $(title 'SUMMER DROP' 64 '(h*0.62-th-18)' "alpha='min(1,t/0.8)'"),
   $(title 'out now' 30 '(h*0.62+26)' "alpha='min(1,max(0,(t-1.2)/0.6))'")[v]" \
  "$PULSE*0.8+0.1*sin(2*PI*660*t)*exp(-8*mod(t,0.25))" '[Upbeat synth jingle]'

render product-reveal \
  "color=c=0x0b1020:s=$S:d=$D:r=$R,
   drawbox=x=(iw-w)/2:y=150-h/2:w=30+150*min(1\,t/1.5):h=30+150*min(1\,t/1.5):color=0x7c5cff@0.85:t=fill,
   drawbox=x=(iw-w)/2:y=150-h/2:w=16+96*min(1\,t/1.8):h=16+96*min(1\,t/1.8):color=0x22d3ee@0.9:t=fill,
   $(title 'Meet Nova' 44 268 "alpha='min(1,max(0,(t-1.6)/0.6))'")[v]" \
  "0.25*sin(2*PI*(200+120*t)*t)*exp(-0.4*t)+0.1*sin(2*PI*523*t)*gt(t,1.6)" '[Rising whoosh, then a soft chime]'

# Travel
render sunset-timelapse \
  "gradients=s=$S:c0=0x1e1b4b:c1=0xc2410c:c2=0xfbbf24:nb_colors=3:x0=320:y0=0:x1=320:y1=300:speed=0.01:d=$D:r=$R,
   drawbox=x=(iw-120)/2:y=130+20*t:w=120:h=120:color=0xfff1b8@0.9:t=fill,boxblur=16:2,
   drawbox=x=0:y=ih*0.72:w=iw:h=ih*0.28:color=0x111827:t=fill,
   $(title 'golden hour' 28 '(h*0.8)' 'fontcolor=0xfde68a')[v]" \
  "0.05*sin(2*PI*196*t)+0.05*sin(2*PI*293.7*t)+0.03*sin(2*PI*392*t)*(0.5+0.5*sin(2*PI*0.25*t))" '[Calm ambient pads]'

render ocean-loop \
  "gradients=s=$S:c0=0x67e8f9:c1=0x0e7490:c2=0x083344:nb_colors=3:x0=320:y0=0:x1=320:y1=360:speed=0.0001:d=$D:r=$R[bg];
   aevalsrc=exprs='0.9*sin(2*PI*1.5*t)*sin(2*PI*50*t)':s=44100:d=$D,showwaves=s=640x200:mode=cline:rate=$R:colors=0xe0f2fe,format=rgba,colorchannelmixer=aa=0.45[w];
   [bg][w]overlay=y=170:shortest=1,$(title 'tide' 40 36)[v]" \
  "0.05*(random(0)-0.5)*(0.6+0.4*sin(2*PI*0.5*t))+0.04*sin(2*PI*174*t)" '[Soft waves and a low drone]'

# Art
render fractal-dive \
  "mandelbrot=s=$S:rate=$R:end_pts=100:start_scale=3:end_scale=0.8:maxiter=200:inner=black,
   hue=h=250+t*15,$(title 'infinite' 30 '(h-th-40)')[v]" \
  "0.12*sin(2*PI*(300-40*t)*t)+0.08*sin(2*PI*450*t)*(0.5+0.5*sin(2*PI*t))" '[Shimmering, descending tones]'

render cellular-bloom \
  "life=s=160x90:mold=12:r=$R:ratio=0.18:death_color=0x2e1065:life_color=0xf0abfc:mold_color=0x6d28d9,
   scale=640:360:flags=neighbor,$(title 'bloom' 36 30)[v]" \
  "0.1*sin(2*PI*261.6*t)*exp(-5*mod(t,0.25))+0.1*sin(2*PI*392*t)*exp(-5*mod(t+0.125,0.25))" '[Playful plucked arpeggio]'

# Podcast
render podcast-audiogram \
  "aevalsrc=exprs='0.5*sin(2*PI*140*t)*(0.5+0.5*sin(2*PI*5*t))*gt(sin(2*PI*0.7*t),-0.6)':s=44100:d=$D,showwaves=s=560x120:mode=cline:rate=$R:colors=0xa78bfa[w];
   color=c=0x0f172a:s=$S:d=$D:r=$R,drawbox=x=24:y=24:w=iw-48:h=ih-48:color=0x1e293b:t=fill,
   $(title 'THE CREATIVE STACK' 34 60),$(title 'episode twelve' 22 106 'fontcolor=0x94a3b8')[bg];
   [bg][w]overlay=x=40:y=190:shortest=1[v]" \
  "0.3*sin(2*PI*140*t)*(0.5+0.5*sin(2*PI*5*t))*gt(sin(2*PI*0.7*t),-0.6)" '[Host speaking over a low hum]'
